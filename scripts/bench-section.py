"""Writes a benchmark script's section into docs/BENCHMARKS.md (or OUT).

    python3 scripts/bench-section.py OUT "## Heading (" < section.md

The section (read from standard input) replaces the one whose heading
starts with the given text, up to the next "## " heading, so that what a
person wrote after it stays; a file without one gets it at the end. The
section is printed too.
"""
import re
import sys

out, heading = sys.argv[1], sys.argv[2]
section = sys.stdin.read().rstrip("\n") + "\n"
try:
    text = open(out).read()
except FileNotFoundError:
    text = "# Benchmarks\n"
pattern = re.compile(re.escape(heading) + r".*?(?=\n## |\Z)", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
else:
    text = text.rstrip("\n") + "\n\n" + section
open(out, "w").write(text)
print(section, end="")
