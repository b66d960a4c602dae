#!/usr/bin/python3
"""test_storage_faults.py - flowpush.fcgi (as CGI) on a database whose disk
fills up or turns read-only: each write is refused whole with its own JSON
error (507 storage_full, 503 storage_readonly), nothing is half-written,
and writes work again by themselves once the fault goes.

The database lives on a small tmpfs mounted in a mount namespace of the
test's own (unshare -m), so the machine's file systems are never touched.
Where the namespace or the mount is not allowed, the test says so on a
skip line."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cgi_harness import CgiTestCase, Site, main  # noqa: E402

IN_NS = "FLOWPUSH_TEST_IN_NAMESPACE"


def mount(folder, options):
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "fp-fault",
                    folder], check=True, timeout=30)


def remount(folder, options):
    subprocess.run(["mount", "-o", "remount," + options, folder],
                   check=True, timeout=30)


class StorageFaultTest(CgiTestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="fp-fault-")
        mount(self.folder, "size=2m,mode=0700")
        self.site = Site(folder=self.folder)

    def tearDown(self):
        subprocess.run(["umount", "-l", self.folder], timeout=30)
        os.rmdir(self.folder)

    def fill(self, limit=1000):
        """Creates large keyword sets until one is refused; returns the ids
        made and the refusal."""
        made = []
        for i in range(limit):
            a = self.req("POST", "/api/keyword-sets", {
                "name": "filler %d" % i, "description": "x" * 16000})
            if a.status != 201:
                return made, a
            made.append(a.json()["id"])
        self.fail("the disk never filled")

    def test_a_full_disk_is_507_whole_and_recovers_by_itself(self):
        made, refused = self.fill()
        self.assertGreater(len(made), 5)
        err = self.assertError(refused, 507, "storage_full")
        self.assertIn("full", err["message"])
        # What was written stays whole and readable.
        listed = self.items("keyword-sets", "?limit=1000")
        self.assertEqual(sorted(r["id"] for r in listed), sorted(made))
        remount(self.folder, "size=16m")
        a = self.req("POST", "/api/keyword-sets", {"name": "after"})
        self.assertEqual(a.status, 201, a)

    def test_a_read_only_disk_is_503_and_recovers_by_itself(self):
        a = self.req("POST", "/api/keyword-sets", {"name": "before"})
        self.assertEqual(a.status, 201, a)
        remount(self.folder, "ro")
        a = self.req("POST", "/api/keyword-sets", {"name": "during"})
        err = self.assertError(a, 503)
        self.assertIn(err["code"], ("storage_readonly",
                                    "database_unavailable"))
        self.assertTrue(a.header("retry-after"), a)
        remount(self.folder, "rw")
        a = self.req("POST", "/api/keyword-sets", {"name": "after"})
        self.assertEqual(a.status, 201, a)
        names = {r["name"] for r in self.items("keyword-sets")}
        self.assertEqual(names, {"before", "after"})


def in_namespace():
    """Runs this file again inside a mount namespace of its own."""
    env = dict(os.environ, **{IN_NS: "1"})
    try:
        probe = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             "d=$(mktemp -d) && mount -t tmpfs -o size=64k x \"$d\" && "
             "umount \"$d\" && rmdir \"$d\""],
            capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        probe = None
        why = str(e)
    if probe is None or probe.returncode != 0:
        why = why if probe is None else probe.stderr.decode()[:200]
        print("skip: no mount namespace with tmpfs here (%s)" % why.strip())
        print("0 passed, 0 failed, 2 skipped")
        return 0
    return subprocess.run(["unshare", "-m", "--propagation", "private",
                           sys.executable, os.path.abspath(__file__)],
                          env=env, timeout=600).returncode


if __name__ == "__main__":
    if os.environ.get(IN_NS):
        sys.exit(main(__name__))
    sys.exit(in_namespace())
