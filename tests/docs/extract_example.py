#!/usr/bin/env python3
"""extract_example.py PAGE.scd OUT.c - writes the C program of a man page's
EXAMPLE section (its first ``` block) to OUT.c.

scdoc treats a backslash as an escape even inside literal blocks (the page
source writes "\\\\n" for the C escape "\\n"), so the same unescaping is
applied here: what is compiled is exactly what the reader of the page sees.
"""
import re
import sys


def example_of(text):
    m = re.search(r"^# EXAMPLE\s*$(.*?)(?=^# |\Z)", text, re.M | re.S)
    if not m:
        return None
    block = re.search(r"^```[^\n]*\n(.*?)^```\s*$", m.group(1), re.M | re.S)
    if not block:
        return None
    return re.sub(r"\\(.)", r"\1", block.group(1))


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        code = example_of(f.read())
    if code is None:
        sys.exit("%s: no EXAMPLE section with a ``` block" % src)
    with open(out, "w", encoding="utf-8") as f:
        f.write("#line 1 \"%s (EXAMPLE)\"\n" % src.rsplit("/", 1)[-1])
        f.write(code)


if __name__ == "__main__":
    main()
