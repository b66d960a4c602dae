#!/usr/bin/python3
"""test_man.py - the manual pages of a build: flowpush.conf(5) holds every
config key and names the programs that read it, the hand-written pages name
every command and option of the code, and every page renders without a
warning. Run from the build folder (as make check does) or with
FLOWPUSH_BUILD."""

import os
import re
import shutil
import subprocess
import sys
import unittest

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("FLOWPUSH_BUILD") or ".")
MAN = os.path.join(BUILD, "man")
PAGES = ["flowpush.1", "flowpushd.8", "flowpush.fcgi.8", "flowpush.conf.5"]
# Each program, its page and the name its page gives it.
PROGRAMS = [("flowpush", "flowpush.1"), ("flowpushd", "flowpushd.8"),
            ("flowpush.fcgi", "flowpush.fcgi.8")]


def clean_env():
    """No FLOWPUSH_* or CGI setting of the caller may change the output."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("FLOWPUSH_") and k != "GATEWAY_INTERFACE"}


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def page(name):
    return read(os.path.join(MAN, name))


def run(program, *args):
    r = subprocess.run([os.path.join(BUILD, program)] + list(args),
                       capture_output=True, text=True, env=clean_env(),
                       timeout=60)
    if r.returncode != 0:
        raise AssertionError("%s %s: exit %d: %s" % (
            program, " ".join(args), r.returncode, r.stderr))
    return r.stdout


def table_keys():
    """The config keys, read from the table's source, not from a program:
    a key the generator left out must still be asked for."""
    text = read(os.path.join(SRC, "common", "config.c"))
    return re.findall(r'^\t(?:STR|LNG|BOOL)\([^"\n]*"([a-z_0-9]+)"', text,
                      re.M)


def help_keys(program):
    """The keys a program's --help lists (lines "  key   help")."""
    args = ["help"] if program == "flowpush" else ["--help"]
    out = run(program, *args)
    keys = out.split("Configuration keys", 1)[1]
    return set(re.findall(r"^  ([a-z_0-9]+) ", keys, re.M))


def roff_has_option(text, option):
    """Options are written with escaped hyphens (\\-\\-name)."""
    return option.replace("-", "\\-") in text


class ConfPageTest(unittest.TestCase):
    def test_conf_page__has_an_entry_for_every_key_of_the_table(self):
        keys = table_keys()
        self.assertGreater(len(keys), 20, "the key table was not found")
        text = page("flowpush.conf.5")
        for key in keys:
            with self.subTest(key=key):
                self.assertTrue(".TP\n.B %s\n" % key in text,
                                "flowpush.conf.5 has no entry for " + key)
                self.assertTrue("FLOWPUSH_%s" % key.upper() in text,
                                "flowpush.conf.5 lacks FLOWPUSH_" +
                                key.upper())

    def test_conf_page__names_the_programs_each_key_s_help_lists_it_in(self):
        text = page("flowpush.conf.5")
        listed = {p: help_keys(p) for p, _ in PROGRAMS}
        for key in table_keys():
            if ".TP\n.B %s\n" % key not in text:
                continue    # the test above names it
            entry = text.split(".TP\n.B %s\n" % key, 1)[1].split(".TP", 1)[0]
            readers = entry.split("Read by", 1)[1].split("\n.", 1)[0]
            for program, manpage in PROGRAMS:
                named = "\\fB%s\\fR(%s)" % (program, manpage[-1]) in readers
                with self.subTest(key=key, program=program):
                    self.assertEqual(named, key in listed[program])


class HandWrittenPagesTest(unittest.TestCase):
    def test_flowpush_page__names_every_command(self):
        out = run("flowpush", "help")
        block = out.split("commands:\n", 1)[1].split("\n\n", 1)[0]
        commands = [l.split()[0] for l in block.splitlines()]
        self.assertIn("init", commands)
        text = page("flowpush.1")
        for c in commands:
            with self.subTest(command=c):
                self.assertRegex(text, r"\n\.B %s( |\n)" %
                                 re.escape(c.replace("-", "\\-")))

    def test_flowpush_page__names_every_option_of_the_option_table(self):
        source = read(os.path.join(SRC, "cli", "main.c"))
        options = re.findall(r'OPT\("(--[a-z-]+)", (?:"(-[a-z])"|NULL)',
                             source)
        self.assertGreater(len(options), 10, "the option table was not found")
        text = page("flowpush.1")
        for long, short in options:
            with self.subTest(option=long):
                self.assertTrue(roff_has_option(text, long))
                if short:
                    self.assertTrue(roff_has_option(text, short))

    def test_daemon_and_api_pages__name_every_option_of_their_usage(self):
        for program, manpage in PROGRAMS[1:]:
            usage = run(program, "--help").split("\n\n", 1)[0]
            options = set(re.findall(r"--[a-z-]+", usage))
            self.assertIn("--version", options)
            text = page(manpage)
            for o in options:
                with self.subTest(program=program, option=o):
                    self.assertTrue(roff_has_option(text, o))


class RenderTest(unittest.TestCase):
    def test_every_page__carries_the_programs_version_and_no_placeholder(self):
        version = run("flowpush", "--version").split()[-1]
        for name in PAGES:
            text = page(name)
            with self.subTest(page=name):
                th = [l for l in text.splitlines() if l.startswith(".TH ")]
                self.assertEqual(len(th), 1)
                self.assertIn('"flowpush %s"' % version, th[0])
                self.assertIsNone(re.search(r"@[A-Za-z_]+@", text))

    def test_every_page__renders_without_a_warning(self):
        groff = shutil.which("groff")
        if groff is None:
            self.skipTest("groff is not installed")
        for name in PAGES:
            with self.subTest(page=name):
                r = subprocess.run(
                    [groff, "-t", "-man", "-Tutf8", "-ww", "-z",
                     os.path.join(MAN, name)],
                    capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, "")

    def test_every_page__reads_through_man(self):
        man = shutil.which("man")
        if man is None:
            self.skipTest("man is not installed")
        for name in PAGES:
            with self.subTest(page=name):
                env = dict(clean_env(), MANWIDTH="80", MAN_KEEP_STDERR="1")
                r = subprocess.run([man, "--warnings", "-l",
                                    os.path.join(MAN, name)],
                                   capture_output=True, text=True,
                                   timeout=60, env=env)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, "")
                self.assertIn("SEE ALSO", r.stdout)


if __name__ == "__main__":
    missing = [p for p in PAGES if not os.path.exists(os.path.join(MAN, p))]
    if missing:
        sys.stderr.write("no %s in %s (run make, or set FLOWPUSH_BUILD)\n" %
                         (", ".join(missing), MAN))
        sys.exit(99)
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors)
    print("%d passed, %d failed" % (r.testsRun - failed, failed))
    sys.exit(1 if failed else 0)
