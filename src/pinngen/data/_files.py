"""Reading files that may or may not be gzip-compressed (decided by magic bytes, not by name)."""

from __future__ import annotations

import os
import zlib
from types import TracebackType

from .errors import DataError

GZIP_MAGIC = b"\x1f\x8b"


class ByteReader:
    """Reads a plain or gzip file; a cut-off gzip stream yields what it has and sets ``truncated``.

    Python's ``gzip`` module raises on a cut-off stream before handing over the bytes it did decode,
    which would hide how much data there was; this reader keeps them so that errors can say
    "header says N bytes, file has M".
    """

    def __init__(self, path: str | os.PathLike[str], *, chunk: int = 1 << 16) -> None:
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise DataError(f"{self.path}: no such file")
        self._f = open(self.path, "rb")
        self.gzip = self._f.read(2) == GZIP_MAGIC
        self._f.seek(0)
        self._chunk = chunk
        self._z = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
        self._tail = b""  # compressed input read but not yet given to the decompressor
        self._buf = bytearray()  # decompressed output not yet returned
        self._done = False
        self.truncated = False

    def _fill(self, n: int) -> None:
        """Decompress until ``n`` bytes are buffered or the input ends."""
        while len(self._buf) < n and not self._done:
            if self._z.eof:  # one gzip member ended; another may follow (zero padding is allowed)
                rest = (self._z.unused_data + self._tail).lstrip(b"\0") or self._f.read(self._chunk)
                self._tail = b""
                if not rest.lstrip(b"\0"):
                    if not rest:
                        self._done = True
                    continue
                self._z, self._tail = zlib.decompressobj(wbits=31), rest.lstrip(b"\0")
                continue
            data = self._z.unconsumed_tail or self._tail or self._f.read(self._chunk)
            self._tail = b""
            try:
                if not data:  # input ran out: take what the decompressor still holds
                    self._buf += self._z.flush()
                    self.truncated = not self._z.eof
                    self._done = True
                else:
                    self._buf += self._z.decompress(data, n - len(self._buf))
            except zlib.error as e:
                raise DataError(f"{self.path}: corrupt gzip data ({e})") from e

    def read(self, n: int = -1) -> bytearray:
        """At most ``n`` bytes (all remaining when ``n < 0``); fewer only at the end of the data.

        Returns a fresh ``bytearray``, so ``np.frombuffer`` over it gives a writable array without a copy.
        """
        if n < 0 or n > 1 << 62:
            n = 1 << 62  # all of it (a hostile header may ask for more than a C size can hold)
        if not self.gzip:
            out = bytearray()
            while len(out) < n and (block := self._f.read(min(n - len(out), 1 << 22))):
                out += block  # in chunks: a bogus huge size must not allocate up front
            return out
        self._fill(n)
        if n >= len(self._buf):  # hand over the whole buffer: no copy of a large file
            out, self._buf = self._buf, bytearray()
            return out
        out = self._buf[:n]
        del self._buf[:n]
        return out

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> ByteReader:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_all(path: str | os.PathLike[str]) -> bytearray:
    """The whole (decompressed) content; a cut-off gzip stream is a ``DataError``."""
    with ByteReader(path) as f:
        data = f.read()
        if f.truncated:
            raise DataError(f"{f.path}: truncated gzip stream after {len(data)} bytes")
    return data


def read_text(path: str | os.PathLike[str]) -> str:
    """A text file (plain or gzip, UTF-8 with or without a BOM) as a string; a corrupt or cut-off gzip stream and
    bytes that are not UTF-8 text are a one-line ``DataError`` naming the file and the byte offset."""
    data = read_all(path)
    try:
        return bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{os.fspath(path)}: not UTF-8 text (byte {e.start} is 0x{data[e.start]:02x}); save the "
                        "file as UTF-8 (CSV/plain text)") from None
