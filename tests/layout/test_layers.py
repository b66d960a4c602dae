#!/usr/bin/python3
"""test_layers.py - the source tree's shape: every folder is a one-way stack
(no files that include each other in a circle) and every file exports only
names with its own prefix. Reads the sources; builds nothing."""

import glob
import os
import re
import sys
import unittest

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FOLDERS = ["common", "cgi", "cli", "push"]
INCLUDE = re.compile(r'^#include "([A-Za-z0-9_]+)\.h"', re.M)
# A function definition at the start of a line: type, name, "(".
DEFINITION = re.compile(r"^(?!static)[a-z][a-z0-9_ \t*]*?\b([a-z][a-z0-9_]*)\(", re.M)


# The tree speaks of itself alone: no text in it may send a reader to a
# file outside the repository (this file, which names them, excepted).
OUTSIDE = re.compile(r"\b(?:DESIGN|STYLE)\.md\b|\.\./shared(?![-\w])")
SELF = os.path.relpath(os.path.abspath(__file__), SRC)
# Where the project's own text lives (what make dist ships, and more).
TEXT_ROOTS = ["README.md", "CHANGELOG.md", "LICENSE", "Makefile.am",
              "configure.ac", "quickstart", ".ci", "docs", "deploy", "bench",
              "tests", "common", "push", "cgi", "cli", "www", "man"]
SKIP_DIRS = {"node_modules", "__pycache__", ".git"}


def text_files():
    """Every file under TEXT_ROOTS that reads as UTF-8 text, as (relative
    path, text)."""
    for root in TEXT_ROOTS:
        top = os.path.join(SRC, root)
        if os.path.isfile(top):
            paths = [top]
        else:
            paths = []
            for d, dirs, files in os.walk(top):
                dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
                paths += [os.path.join(d, f) for f in files]
        for path in sorted(paths):
            try:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
            except (UnicodeDecodeError, OSError):
                continue    # pictures and other binary files
            yield os.path.relpath(path, SRC), text


def modules(folder):
    """{module: set of modules of the same folder it includes}, where a
    module is a .c file and its .h."""
    files = glob.glob(os.path.join(SRC, folder, "*.[ch]"))
    names = {os.path.splitext(os.path.basename(f))[0] for f in files}
    deps = {n: set() for n in names}
    for f in files:
        name = os.path.splitext(os.path.basename(f))[0]
        with open(f, encoding="utf-8") as fh:
            for inc in INCLUDE.findall(fh.read()):
                if inc in names and inc != name:
                    deps[name].add(inc)
    return deps


def cycle(deps):
    """One circle of includes as a list of modules, or None."""
    state = {}

    def visit(n, path):
        state[n] = 1
        for d in sorted(deps[n]):
            if state.get(d) == 1:
                return path[path.index(d):] + [d]
            if d not in state:
                found = visit(d, path + [d])
                if found:
                    return found
        state[n] = 2
        return None

    for n in sorted(deps):
        if n not in state:
            found = visit(n, [n])
            if found:
                return found
    return None


class LayerTest(unittest.TestCase):
    def test_no_folder_has_files_that_include_each_other_in_a_circle(self):
        for folder in FOLDERS:
            with self.subTest(folder=folder):
                self.assertIsNone(cycle(modules(folder)),
                                  "%s/ includes in a circle" % folder)

    def test_common_includes_nothing_of_the_programs(self):
        programs = set()
        for folder in FOLDERS[1:]:
            programs |= set(modules(folder))
        own = set(modules("common"))
        for f in glob.glob(os.path.join(SRC, "common", "*.[ch]")):
            with open(f, encoding="utf-8") as fh:
                bad = set(INCLUDE.findall(fh.read())) & (programs - own)
            self.assertEqual(bad, set(), f)

    def test_every_source_file_is_in_the_build(self):
        # A file the build does not name is missing from the tarball
        # (make distcheck) even when the tree builds.
        with open(os.path.join(SRC, "Makefile.am"), encoding="utf-8") as fh:
            makefile = fh.read()
        for folder in FOLDERS + ["push"]:
            for f in glob.glob(os.path.join(SRC, folder, "*.[ch]")):
                rel = os.path.relpath(f, SRC)
                self.assertIn(rel, makefile, "Makefile.am lacks " + rel)

    def test_every_exported_function_carries_its_files_prefix(self):
        for folder in ["common", "cgi", "cli", "push"]:
            for f in glob.glob(os.path.join(SRC, folder, "*.c")):
                prefix = os.path.splitext(os.path.basename(f))[0]
                if prefix == "main":
                    continue
                with open(f, encoding="utf-8") as fh:
                    names = DEFINITION.findall(fh.read())
                wrong = [n for n in names if not n.startswith(prefix + "_")
                         and n != prefix]
                with self.subTest(file=os.path.relpath(f, SRC)):
                    self.assertEqual(wrong, [], "exported without the prefix")


class StandsAloneTest(unittest.TestCase):
    def test_no_text_refers_to_files_outside_the_repository(self):
        seen, found = 0, []
        for rel, text in text_files():
            seen += 1
            if rel == SELF:
                continue
            for n, line in enumerate(text.splitlines(), 1):
                if OUTSIDE.search(line):
                    found.append("%s:%d: %s" % (rel, n, line.strip()))
        self.assertGreater(seen, 100, "the tree's text was not found")
        self.assertEqual(found, [], "references to files outside the "
                         "repository:\n" + "\n".join(found))

    def test_outside_pattern__finds_what_it_must_and_spares_the_rest(self):
        for bad in ("see DESIGN.md section 5", "(STYLE.md)",
                    "../shared/DESIGN", "cp ../shared x"):
            self.assertIsNotNone(OUTSIDE.search(bad), bad)
        for good in ("deploy/shared-hosting/htaccess", "../shared-hosting",
                     "docs/PUSH.md", "a shared folder"):
            self.assertIsNone(OUTSIDE.search(good), good)


if __name__ == "__main__":
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors)
    print("%d passed, %d failed" % (r.testsRun - failed, failed))
    sys.exit(1 if failed else 0)
