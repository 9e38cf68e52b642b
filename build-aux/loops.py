#!/usr/bin/env python3
"""File pairs of lib/ that call each other (nm over the library's objects).

usage: loops.py BUILD_DIR [DIR...]   (default DIR: lib; run from the source root)
Prints each pair A <-> B with one symbol each way; exit status 1 if any.
An edge A -> B is A referring to a symbol B defines; a static library's
objects keep their undefined symbols, so no link map is needed.
"""
import os
import re
import subprocess
import sys


def source_of(flat):
	"""lib_vtd_kernel_log -> lib/vtd/kernel_log: the split that names a file."""
	parts = flat.split('_')
	for mask in range(1 << (len(parts) - 1)):
		path = parts[0]
		for i, p in enumerate(parts[1:]):
			path += ('/' if mask >> i & 1 else '_') + p
		if os.path.exists(path + '.c'):
			return path
	return flat.replace('_', '/')


def objects(build, dirs):
	p = os.path.join(build, 'libiommush.a.p')
	for name in sorted(os.listdir(p)):
		m = re.match(r'(.*)\.c\.o$', name)
		if not m:
			continue
		src = source_of(m.group(1))
		# meson flattens lib/vtd/arch.c to lib_vtd_arch.c.o
		for d in dirs:
			if src.startswith(d.replace('_', '/') + '/'):
				yield src, os.path.join(p, name)


def symbols(obj):
	out = subprocess.run(['nm', obj], capture_output=True, text=True, check=True).stdout
	defs, refs = set(), set()
	for line in out.splitlines():
		parts = line.split()
		if len(parts) == 2 and parts[0] == 'U':
			refs.add(parts[1])
		elif len(parts) == 3 and parts[1] in 'TDBR':
			defs.add(parts[2])
	return defs, refs


def main():
	build = sys.argv[1]
	dirs = sys.argv[2:] or ['lib']
	info = {src: symbols(obj) for src, obj in objects(build, dirs)}
	owner = {}
	for src, (defs, _) in info.items():
		for s in defs:
			owner[s] = src
	edges = {}
	for src, (_, refs) in info.items():
		for s in refs:
			o = owner.get(s)
			if o and o != src:
				edges.setdefault((src, o), s)
	loops = sorted((a, b) for (a, b) in edges if a < b and (b, a) in edges)
	for a, b in loops:
		print(f'{a} <-> {b}: {edges[(a, b)]} / {edges[(b, a)]}')
	print(f'{len(info)} files, {len(edges)} edges, {len(loops)} pairs in a loop')
	hloops = include_loops()
	for a, b in hloops:
		print(f'{a} <-> {b}: include each other')
	print(f'{len(hloops)} header pairs that include each other')
	return 1 if loops or hloops else 0


def include_loops():
	"""Header pairs of include/ that include each other."""
	inc = {}
	for root, _, names in os.walk('include'):
		for n in names:
			if n.endswith('.h'):
				path = os.path.join(root, n)
				with open(path) as f:
					inc[os.path.relpath(path, 'include')] = set(
						re.findall(r'#include <([^>]+)>', f.read()))
	return sorted((a, b) for a in inc for b in inc[a]
		      if a < b and b in inc and a in inc[b])


sys.exit(main())
