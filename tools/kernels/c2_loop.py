#!/usr/bin/env python3
"""Prints the innermost vector loop of a C2-compiled method from a -XX:+PrintAssembly log, disassembled.

The JDK prints machine code as hex when no hsdis plugin with its current interface is installed (Debian's
libhsdis0-fcml exports the old one), so this turns the hex of the method's last C2 compilation back into bytes and
disassembles them with binutils' objdump. It then finds the shortest backward jump whose body contains the
given instruction (by default vpmovsxbd, the int8 widening of the quantised kernels) and prints that loop with
an instruction count and mix.

Usage (see docs/decode-kernels.md):
  java ... -XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=print,osprey4j.core.kernels.MatVec::fourRowsQ8 ... > log
  python3 tools/kernels/c2_loop.py log fourRowsQ8 [vpmovsxbd]
"""
import collections
import re
import subprocess
import sys
import tempfile


def machine_code(log, method):
    lines = open(log).read().split('\n')
    start = max(i for i, l in enumerate(lines) if 'Compiled method (c2)' in l and method + ' (' in l and ' % ' not in l)
    code, base = bytearray(), None
    for line in lines[start:]:
        m = re.match(r'\s+0x([0-9a-f]+): (.*)', line)
        if m:
            base = base if base is not None else int(m.group(1), 16)
            for h in m.group(2).split(';')[0].replace('|', '').split():
                if not re.fullmatch(r'[0-9a-f]+', h) or len(h) % 2:
                    break
                code += bytes.fromhex(h)
        elif line.startswith('[Stub Code]') or line.startswith('[Exception Handler]'):
            break
    return base, code


def disassemble(base, code):
    with tempfile.NamedTemporaryFile(suffix='.bin') as f:
        f.write(code)
        f.flush()
        out = subprocess.run(['objdump', '-D', '-b', 'binary', '-mi386:x86-64', '-Mintel',
                              '--adjust-vma=%d' % base, f.name], capture_output=True, text=True, check=True).stdout
    rows = [l.split('\t') for l in out.split('\n') if l.count('\t') >= 2]
    return [(int(r[0].strip().rstrip(':'), 16), re.sub(r'\s+#.*', '', re.sub(' +', ' ', r[2].strip()))) for r in rows]


def main():
    log, method = sys.argv[1], sys.argv[2]
    marker = sys.argv[3] if len(sys.argv) > 3 else 'vpmovsxbd'
    ins = disassemble(*machine_code(log, method))
    addrs = [a for a, _ in ins]
    best = None
    for i, (a, t) in enumerate(ins):
        m = re.match(r'j\w+ 0x([0-9a-f]+)', t)
        if m and int(m.group(1), 16) < a and int(m.group(1), 16) in addrs:
            body = [x for _, x in ins[addrs.index(int(m.group(1), 16)):i + 1]]
            if any(marker in b for b in body) and (best is None or len(body) < len(best)):
                best = body
    if best is None:
        sys.exit('no loop with ' + marker + ' in ' + method)
    mix = collections.Counter(b.split()[0] for b in best)
    print('%s: loop of %d instructions, %d vector, %d bounds checks (jae)' % (
        method, len(best), sum(v for k, v in mix.items() if k.startswith('v')), mix['jae']))
    print('mix: ' + ', '.join('%s %d' % kv for kv in mix.most_common()))
    for b in best:
        print('    ' + b)


if __name__ == '__main__':
    main()
