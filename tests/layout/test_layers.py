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


if __name__ == "__main__":
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors)
    print("%d passed, %d failed" % (r.testsRun - failed, failed))
    sys.exit(1 if failed else 0)
