#!/usr/bin/python3
"""zktool_mutate.py - hostile copies of data-directory files for test_zktool.sh.

  zktool_mutate.py SEED IN OUT
      Writes a damaged copy of file IN to OUT: one of a few bit flips, an
      overwrite with extreme values (0x00, 0xff, 0x7f, 0x80), a cut at a
      random offset, a duplicated chunk, or random garbage of the same size
      - chosen and placed by SEED, so a failure can be replayed.
  zktool_mutate.py records LOGFILE
      Prints "OFFSET ZXID" for every record of a zkserver log file (header
      32 bytes; records: u32 length, u32 crc32c, u64 zxid, payload).
"""
import random
import struct
import sys


def mutate(seed, data):
    r = random.Random(seed)
    b = bytearray(data)
    if not b:
        return bytes(r.randrange(256) for _ in range(r.randrange(64)))
    kind = r.randrange(5)
    if kind == 0:
        for _ in range(1 + r.randrange(4)):
            i = r.randrange(len(b))
            b[i] ^= 1 << r.randrange(8)
    elif kind == 1:
        for _ in range(1 + r.randrange(4)):
            i = r.randrange(len(b))
            n = min(len(b) - i, r.choice([1, 4, 8]))
            v = r.choice([0x00, 0xff, 0x7f, 0x80])
            b[i:i + n] = bytes([v]) * n
    elif kind == 2:
        b = b[:r.randrange(len(b))]
    elif kind == 3:
        i = r.randrange(len(b))
        n = r.randrange(1, 64)
        b[i:i] = b[i:i + n]
    else:
        b = bytearray(r.randrange(256) for _ in range(min(len(b), 4096)))
    return bytes(b)


def records(path):
    data = open(path, 'rb').read()
    pos = 32
    while pos + 16 <= len(data):
        length, _crc, zxid = struct.unpack('>IIq', data[pos:pos + 16])
        if length == 0:
            break
        print(pos, zxid)
        pos += 8 + length


if __name__ == '__main__':
    if sys.argv[1] == 'records':
        records(sys.argv[2])
    else:
        seed, src, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        with open(dst, 'wb') as f:
            f.write(mutate(seed, open(src, 'rb').read()))
