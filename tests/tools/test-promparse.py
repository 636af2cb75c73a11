#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Self-test of promparse.py: expositions it must accept (with the samples it must find)
and ones it must refuse (at the right line), through the module and through the command
line. Exits 0 when all pass, 1 otherwise."""

import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import promparse  # noqa: E402

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print(f"FAIL {what}", file=sys.stderr)


GOOD = [
    ("empty input", "", []),
    ("blank lines and comments",
     "\n   \n# just a comment\n#\n# HELPFUL is not HELP\nup 1\n",
     [("up", {}, 1.0)]),
    ("help, type, labelled samples",
     "# HELP renewd_certificate_not_after_timestamp_seconds Expiry.\n"
     "# TYPE renewd_certificate_not_after_timestamp_seconds gauge\n"
     'renewd_certificate_not_after_timestamp_seconds{name="a"} 1700000000\n'
     'renewd_certificate_not_after_timestamp_seconds{name="b"} 1.7e9\n',
     [("renewd_certificate_not_after_timestamp_seconds", {"name": "a"}, 1.7e9),
      ("renewd_certificate_not_after_timestamp_seconds", {"name": "b"}, 1.7e9)]),
    ("escapes in label values",
     'm{a="back\\\\slash",b="quo\\"te",c="new\\nline",d="ünï€😀"} 0\n',
     [("m", {"a": "back\\slash", "b": 'quo"te', "c": "new\nline", "d": "ünï€😀"}, 0.0)]),
    ("escapes in help", "# HELP m a \\\\ and \\n\nm 1\n", [("m", {}, 1.0)]),
    ("special floats and exponents",
     "a +Inf\nb -Inf\nc NaN\nd -1.5e-3\ne .5\nf 5.\ng +3E+2\n",
     [("a", {}, math.inf), ("b", {}, -math.inf), ("c", {}, math.nan), ("d", {}, -0.0015),
      ("e", {}, 0.5), ("f", {}, 5.0), ("g", {}, 300.0)]),
    ("timestamps and blanks", "  a\t 1   1700000000000 \nb{} 2 -5\n",
     [("a", {}, 1.0), ("b", {}, 2.0)]),
    ("blanks and trailing comma in label sets", 'a{ x = "1" , y="2", } 1\n',
     [("a", {"x": "1", "y": "2"}, 1.0)]),
    ("colons in metric names", "job:rate:5m 1\n", [("job:rate:5m", {}, 1.0)]),
    ("same name, different labels", 'a{x="1"} 1\na{x="2"} 1\na 3\n',
     [("a", {"x": "1"}, 1.0), ("a", {"x": "2"}, 1.0), ("a", {}, 3.0)]),
    ("help without text", "# HELP a\na 1\n", [("a", {}, 1.0)]),
    ("histogram",
     "# TYPE h histogram\n"
     'h_bucket{le="0.5"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n',
     [("h_bucket", {"le": "0.5"}, 1.0), ("h_bucket", {"le": "+Inf"}, 2.0),
      ("h_sum", {}, 3.0), ("h_count", {}, 2.0)]),
    ("summary",
     "# TYPE s summary\n"
     's{quantile="0.9"} 1\ns_sum 3\ns_count 2\n',
     [("s", {"quantile": "0.9"}, 1.0), ("s_sum", {}, 3.0), ("s_count", {}, 2.0)]),
    ("_count of a gauge is its own family",
     "# TYPE g gauge\ng 1\n# TYPE g_count counter\ng_count 2\n",
     [("g", {}, 1.0), ("g_count", {}, 2.0)]),
]

BAD = [
    ("no trailing newline", "a 1", 1),
    ("no trailing newline after lines", "a 1\nb 2", 2),
    ("carriage return", "a 1\r\n", 1),
    ("metric name starting with a digit", "1a 1\n", 1),
    ("metric name with a dash", "a-b 1\n", 1),
    ("label name with a colon", 'a{b:c="1"} 1\n', 1),
    ("reserved label name", 'a{__name__="x"} 1\n', 1),
    ("label given twice", 'a{x="1",x="2"} 1\n', 1),
    ("unknown escape in label value", 'a{x="\\t"} 1\n', 1),
    ("unterminated label value", 'a{x="1} 1\n', 1),
    ("unquoted label value", "a{x=1} 1\n", 1),
    ("missing label separator", 'a{x="1" y="2"} 1\n', 1),
    ("unclosed label set", 'a{x="1"\n', 1),
    ("no value", "a\n", 1),
    ("no blank before value", 'a{x="1"}1\n', 1),
    ("bad value", "a 1x\n", 1),
    ("Go extra: inf", "a Inf\n", 1),
    ("Go extra: lower-case nan", "a nan\n", 1),
    ("Go extra: hex float", "a 0x1p3\n", 1),
    ("Go extra: underscore", "a 1_000\n", 1),
    ("bad timestamp", "a 1 1.5\n", 1),
    ("trailing text", "a 1 2 3\n", 1),
    ("duplicate series", 'ok 1\na{x="1",y="2"} 1\na{y="2",x="1"} 2\n', 3),
    ("duplicate unlabelled series", "a 1\na 2\n", 2),
    ("second HELP", "# HELP a x\n# HELP a y\na 1\n", 2),
    ("second TYPE", "# TYPE a gauge\n# TYPE a gauge\na 1\n", 2),
    ("TYPE after samples", "a 1\n# TYPE a gauge\n", 2),
    ("HELP after samples", "a 1\n# HELP a x\n", 2),
    ("invalid type", "# TYPE a gaugey\na 1\n", 1),
    ("missing type", "# TYPE a\na 1\n", 1),
    ("trailing text after TYPE", "# TYPE a gauge x\n", 1),
    ("bad escape in HELP", "# HELP a x\\ty\n", 1),
    ("bad metric name in HELP", "# HELP 9a x\n", 1),
    ("family not grouped", "a 1\nb 1\na{x=\"1\"} 2\n", 3),
    ("metadata of a finished family", "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# HELP a x\n", 5),
    ("sample of another family under metadata", "# TYPE a gauge\n# TYPE b gauge\na 1\n", 3),
    ("histogram sample without suffix", "# TYPE h histogram\nh 1\n", 2),
    ("histogram bucket without le", "# TYPE h histogram\nh_bucket 1\n", 2),
    ("histogram le not a float", '# TYPE h histogram\nh_bucket{le="x"} 1\n', 2),
    ("quantile on summary sum", '# TYPE s summary\ns_sum{quantile="0.5"} 1\n', 2),
]

BAD_BYTES = [
    ("invalid UTF-8", b'a 1\nb{x="\xff"} 1\n', 2),
]


def same_value(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def run_good():
    for what, text, expected in GOOD:
        try:
            samples = promparse.parse(text)
        except promparse.PromParseError as e:
            check(False, f"{what}: refused: {e}")
            continue
        got = [(s.name, s.labels, s.value) for s in samples]
        check(len(got) == len(expected)
              and all(g[0] == e[0] and g[1] == e[1] and same_value(g[2], e[2])
                      for g, e in zip(got, expected)),
              f"{what}: got {got}, expected {expected}")


def run_bad():
    for what, text, line in BAD:
        try:
            promparse.parse(text)
        except promparse.PromParseError as e:
            check(e.line == line, f"{what}: error at line {e.line} ({e.reason}), expected line {line}")
        else:
            check(False, f"{what}: accepted")
    for what, data, line in BAD_BYTES:
        try:
            promparse.parse_bytes(data)
        except promparse.PromParseError as e:
            check(e.line == line, f"{what}: error at line {e.line}, expected line {line}")
        else:
            check(False, f"{what}: accepted")


def run_cli():
    script = os.path.join(HERE, "promparse.py")
    with tempfile.TemporaryDirectory() as tmp:
        good = os.path.join(tmp, "good.prom")
        with open(good, "w", encoding="utf-8") as f:
            f.write('# TYPE a counter\na{n="x\\"y"} 3 17\nb NaN\nc 0.25\nd -Inf\n')
        p = subprocess.run([sys.executable, script, good], capture_output=True, text=True)
        check(p.returncode == 0, f"cli good: exit {p.returncode}, stderr {p.stderr!r}")
        try:
            out = json.loads(p.stdout)
        except ValueError:
            out = None
        check(out == [{"name": "a", "labels": {"n": 'x"y'}, "value": 3, "timestamp": 17},
                      {"name": "b", "labels": {}, "value": "NaN"},
                      {"name": "c", "labels": {}, "value": 0.25},
                      {"name": "d", "labels": {}, "value": "-Inf"}],
              f"cli good: output {p.stdout!r}")

        bad = os.path.join(tmp, "bad.prom")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("a 1\na 2\n")
        p = subprocess.run([sys.executable, script, bad], capture_output=True, text=True)
        check(p.returncode == 1, f"cli bad: exit {p.returncode}")
        check(p.stderr.startswith("2:") and "duplicate" in p.stderr, f"cli bad: stderr {p.stderr!r}")
        check(p.stdout == "", f"cli bad: stdout {p.stdout!r}")

        p = subprocess.run([sys.executable, script, os.path.join(tmp, "missing")],
                           capture_output=True, text=True)
        check(p.returncode == 2, f"cli missing file: exit {p.returncode}")
        p = subprocess.run([sys.executable, script], capture_output=True, text=True)
        check(p.returncode == 2, f"cli no argument: exit {p.returncode}")


def main():
    run_good()
    run_bad()
    run_cli()
    total = len(GOOD) + len(BAD) + len(BAD_BYTES)
    if failures:
        print(f"{failures} check(s) failed", file=sys.stderr)
        return 1
    print(f"ok: {total} inputs and the command line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
