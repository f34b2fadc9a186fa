"""The fixture's media: a tiny valid image and sound, base64-encoded, for tools, resources and prompts."""

from __future__ import annotations

import base64
import io
import struct
import wave
import zlib


def _png_pixel() -> bytes:
    """A 1x1 red PNG, built rather than pasted so that it is certainly a valid image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit truecolour
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # one scanline: filter 0, then red
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _wav_silence() -> bytes:
    """10 ms of silence as a WAV file (8 kHz, mono, 16-bit)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 80)
    return out.getvalue()


PNG = base64.b64encode(_png_pixel()).decode()
WAV = base64.b64encode(_wav_silence()).decode()
