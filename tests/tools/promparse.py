#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A strict parser of the Prometheus text exposition format, version 0.0.4, for tests.

As a module:  parse(text) -> list of Sample; raises PromParseError(line, reason).
As a program: promparse.py FILE  prints the samples as a JSON list of
              {"name": ..., "labels": {...}, "value": ...[, "timestamp": ...]} and exits 0,
              or prints "LINE: REASON" to stderr and exits 1 on the first violation
              (exit 2 for a usage error or an unreadable file).

Finite values are JSON numbers (integers when integral and exact); NaN, +Inf and -Inf are
the strings "NaN", "+Inf", "-Inf" since JSON has no such numbers.

What is checked, following the format's documentation:
  - the input is UTF-8 and ends with a line feed (unless it is empty); lines are split at
    line feeds only, so a carriage return is an error wherever it appears;
  - blank lines and comments are ignored; a comment whose first token is HELP or TYPE is
    a metadata line: "# HELP name text" (text escapes: \\\\ and \\n only) and
    "# TYPE name counter|gauge|histogram|summary|untyped";
  - metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and do
    not start with "__"; a label appears once per sample; label values are quoted, with the
    escapes \\\\, \\" and \\n only;
  - values are Go floats without Go's extras: decimal, optional exponent, or exactly NaN,
    +Inf, -Inf; the optional timestamp is an integer (milliseconds);
  - HELP and TYPE at most once per family, and before the family's first sample;
  - the samples of a family are consecutive: once another family has started, neither
    samples nor metadata of an earlier family may follow;
  - a sample belongs to the family its TYPE declared: the metric name itself for counter,
    gauge and untyped; name, name_sum, name_count for a summary (quantile label only on
    name); name_bucket (with an le label), name_sum, name_count for a histogram;
  - no two samples of the same series (name and label set).
"""

import json
import math
import re
import sys

__all__ = ["Sample", "PromParseError", "parse", "parse_bytes", "main"]

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
SPECIAL_FLOATS = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}
TIMESTAMP = re.compile(r"-?[0-9]+")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
BLANKS = " \t"


class PromParseError(Exception):
    """A violation of the format at a line (1-based; 0 when it concerns the whole input)."""

    def __init__(self, line, reason):
        super().__init__(f"{line}: {reason}")
        self.line = line
        self.reason = reason


class Sample:
    """One sample: metric name, labels (dict), value (float), timestamp (int or None)."""

    __slots__ = ("name", "labels", "value", "timestamp", "family", "line")

    def __init__(self, name, labels, value, timestamp, family, line):
        self.name = name
        self.labels = labels
        self.value = value
        self.timestamp = timestamp
        self.family = family
        self.line = line

    def as_json(self):
        if math.isnan(self.value):
            value = "NaN"
        elif math.isinf(self.value):
            value = "+Inf" if self.value > 0 else "-Inf"
        elif self.value.is_integer() and abs(self.value) <= 2**53:
            value = int(self.value)
        else:
            value = self.value
        d = {"name": self.name, "labels": dict(self.labels), "value": value}
        if self.timestamp is not None:
            d["timestamp"] = self.timestamp
        return d

    def __repr__(self):
        return f"Sample({self.name!r}, {self.labels!r}, {self.value!r}, {self.timestamp!r})"


class _Family:
    def __init__(self, name):
        self.name = name
        self.help = None
        self.type = None
        self.has_samples = False


class _Line:
    """A cursor over one line."""

    def __init__(self, text, number):
        self.text = text
        self.pos = 0
        self.number = number

    def error(self, reason):
        raise PromParseError(self.number, reason)

    def at_end(self):
        return self.pos >= len(self.text)

    def peek(self):
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_blanks(self):
        while self.pos < len(self.text) and self.text[self.pos] in BLANKS:
            self.pos += 1

    def match(self, regex, what):
        m = regex.match(self.text, self.pos)
        if not m:
            self.error(f"expected {what} at column {self.pos + 1}")
        self.pos = m.end()
        return m.group(0)

    def token(self):
        """The next run of non-blank characters ("" at the end)."""
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in BLANKS:
            self.pos += 1
        return self.text[start:self.pos]

    def expect(self, ch):
        if self.peek() != ch:
            found = repr(self.peek()) if self.peek() else "end of line"
            self.error(f"expected {ch!r} at column {self.pos + 1}, found {found}")
        self.pos += 1


def _unescape_help(text, line):
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if nxt == "\\":
                out.append("\\")
            elif nxt == "n":
                out.append("\n")
            else:
                line.error(f"invalid escape \\{nxt} in HELP text")
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _label_value(line):
    line.expect('"')
    out = []
    while True:
        if line.at_end():
            line.error("unterminated label value")
        c = line.text[line.pos]
        line.pos += 1
        if c == '"':
            return "".join(out)
        if c == "\\":
            nxt = line.peek()
            if nxt == "\\":
                out.append("\\")
            elif nxt == '"':
                out.append('"')
            elif nxt == "n":
                out.append("\n")
            else:
                line.error(f"invalid escape \\{nxt} in label value")
            line.pos += 1
            continue
        out.append(c)


def _labels(line):
    labels = {}
    line.expect("{")
    while True:
        line.skip_blanks()
        if line.peek() == "}":
            line.pos += 1
            return labels
        name = line.match(LABEL_NAME, "a label name")
        if name.startswith("__"):
            line.error(f"label name {name} is reserved (starts with __)")
        if name in labels:
            line.error(f"label {name} given twice")
        line.skip_blanks()
        line.expect("=")
        line.skip_blanks()
        labels[name] = _label_value(line)
        line.skip_blanks()
        if line.peek() == ",":
            line.pos += 1
            continue
        if line.peek() != "}":
            line.error(f"expected ',' or '}}' at column {line.pos + 1}")


def _value(token, line):
    if not token:
        line.error("missing value")
    if token in SPECIAL_FLOATS:
        return SPECIAL_FLOATS[token]
    if not FLOAT.fullmatch(token):
        line.error(f"invalid value {token!r}")
    return float(token)


class _Parser:
    def __init__(self):
        self.families = {}
        self.current = None       # the family whose samples or metadata came last
        self.closed = set()       # families that another one followed
        self.series = set()
        self.samples = []

    def _family(self, name, line):
        fam = self.families.get(name)
        if fam is None:
            fam = self.families[name] = _Family(name)
        if fam.name in self.closed:
            line.error(f"family {name} continues after family {self.current.name} started")
        if self.current is not fam:
            if self.current is not None:
                self.closed.add(self.current.name)
            self.current = fam
        return fam

    def metadata(self, line):
        line.pos = line.text.index("#") + 1
        line.skip_blanks()
        keyword = line.token()
        if keyword not in ("HELP", "TYPE"):
            return  # a plain comment
        line.skip_blanks()
        name = line.match(METRIC_NAME, "a metric name")
        if line.peek() not in BLANKS:
            line.error(f"expected a blank after the metric name, found {line.peek()!r}")
        fam = self._family(name, line)
        if fam.has_samples:
            line.error(f"{keyword} for {name} after its samples")
        line.skip_blanks()
        if keyword == "HELP":
            if fam.help is not None:
                line.error(f"second HELP for {name}")
            fam.help = _unescape_help(line.text[line.pos:], line)
            return
        if fam.type is not None:
            line.error(f"second TYPE for {name}")
        kind = line.token()
        if kind not in TYPES:
            line.error(f"invalid type {kind!r} for {name}")
        line.skip_blanks()
        if not line.at_end():
            line.error(f"trailing text after TYPE {name} {kind}")
        fam.type = kind

    def _family_of(self, name):
        """The declared family a sample name belongs to, and the suffix that got it there."""
        for suffix, types in (("_bucket", ("histogram",)),
                              ("_sum", ("histogram", "summary")),
                              ("_count", ("histogram", "summary"))):
            if name.endswith(suffix):
                base = self.families.get(name[: -len(suffix)])
                if base is not None and base.type in types:
                    return base.name, suffix
        return name, ""

    def sample(self, line):
        name = line.match(METRIC_NAME, "a metric name")
        labels = _labels(line) if line.peek() == "{" else {}
        if line.peek() not in BLANKS:
            line.error(f"expected a blank before the value at column {line.pos + 1}")
        line.skip_blanks()
        value = _value(line.token(), line)
        line.skip_blanks()
        timestamp = None
        if not line.at_end():
            t = line.token()
            if not TIMESTAMP.fullmatch(t):
                line.error(f"invalid timestamp {t!r}")
            timestamp = int(t)
            if not -(2**63) <= timestamp < 2**63:
                line.error(f"timestamp {t} out of range")
            line.skip_blanks()
            if not line.at_end():
                line.error("trailing text after the timestamp")

        family_name, suffix = self._family_of(name)
        fam = self._family(family_name, line)
        kind = fam.type or "untyped"
        if kind == "histogram":
            if suffix == "":
                line.error(f"histogram {family_name} has no sample named {name}")
            if suffix == "_bucket" and "le" not in labels:
                line.error(f"histogram bucket {name} without an le label")
            if suffix != "_bucket" and "le" in labels:
                line.error(f"le label on {name}")
            if "le" in labels:
                _value(labels["le"], line)
        elif kind == "summary":
            if suffix != "" and "quantile" in labels:
                line.error(f"quantile label on {name}")
            if "quantile" in labels:
                _value(labels["quantile"], line)
        fam.has_samples = True

        key = (name, tuple(sorted(labels.items())))
        if key in self.series:
            line.error(f"duplicate series {name}{{{','.join(f'{k}={v!r}' for k, v in key[1])}}}")
        self.series.add(key)
        self.samples.append(Sample(name, labels, value, timestamp, family_name, line.number))

    def line(self, text, number):
        line = _Line(text, number)
        if "\r" in text:
            line.error("carriage return (lines end with a line feed only)")
        line.skip_blanks()
        if line.at_end():
            return
        if line.peek() == "#":
            self.metadata(line)
        else:
            self.sample(line)


def parse(text):
    """Parse an exposition (str). Returns the list of samples, in input order."""
    if text and not text.endswith("\n"):
        raise PromParseError(text.count("\n") + 1, "no line feed at the end of the input")
    parser = _Parser()
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        parser.line(line, number)
    return parser.samples


def parse_bytes(data):
    """parse() for bytes, which must be UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PromParseError(data[: e.start].count(b"\n") + 1, "invalid UTF-8") from None
    return parse(text)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: promparse.py FILE", file=sys.stderr)
        return 2
    try:
        with open(argv[0], "rb") as f:
            data = f.read()
    except OSError as e:
        print(f"{argv[0]}: {e.strerror}", file=sys.stderr)
        return 2
    try:
        samples = parse_bytes(data)
    except PromParseError as e:
        print(f"{e.line}:{e.reason}", file=sys.stderr)
        return 1
    json.dump([s.as_json() for s in samples], sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
