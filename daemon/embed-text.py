#!/usr/bin/env python3
"""Turn a text file into a C header holding it as one string constant.

usage: embed-text.py INPUT OUTPUT NAME"""
import sys

src, dst, name = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, "rb").read()
out = []
for b in data:
    # Octal escapes (never more than three digits) for anything that is not plain text,
    # and for the characters C treats specially inside a string or a trigraph.
    if b < 0x20 or b >= 0x7F or b in (0x22, 0x5C, 0x3F):
        out.append("\\%03o" % b)
    else:
        out.append(chr(b))
with open(dst, "w") as f:
    f.write("/* Generated from %s by embed-text.py. */\n#pragma once\n" % src.split("/")[-1])
    f.write('static const char %s[] = "%s";\n' % (name, "".join(out)))
