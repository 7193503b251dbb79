"""Reading a log: what is refused, and why."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from recoverops.errors import (
    BinaryInputError,
    EmptyInputError,
    InputError,
    InputNotFoundError,
    InputTooLargeError,
)
from recoverops.inputs import decode_log, read_log, read_stream

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "cases"
TRAVIS = CASES / "travis-go-build-redeclared" / "log.txt"
LIMIT = 1_000_000


def test_a_real_log_with_colour_codes_and_carriage_returns_is_text() -> None:
    data = TRAVIS.read_bytes()
    assert b"\x1b[" in data and b"\r" in data
    assert read_log(TRAVIS, max_bytes=LIMIT) == data.decode("utf-8")


def test_invalid_utf8_is_replaced_not_refused() -> None:
    assert decode_log(b"caf\xe9 failed\n", name="x") == "caf\ufffd failed\n"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", EmptyInputError),
        (b" \n\t\r\n  \n", EmptyInputError),
        (b"PK\x03\x04\x00\x00binary zip", BinaryInputError),
        (b"line one\nline\x00two\n", BinaryInputError),
        (bytes(range(1, 8)) * 50, BinaryInputError),
    ],
    ids=["empty", "whitespace", "zip", "nul", "control-bytes"],
)
def test_what_is_not_a_log(data: bytes, error: type[InputError]) -> None:
    with pytest.raises(error, match=r"^stdin-name: "):
        decode_log(data, name="stdin-name")


def test_a_file_exactly_at_the_limit_is_read_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "build.log"
    path.write_bytes(b"x" * 99 + b"\n")
    assert read_log(path, max_bytes=100).startswith("xxx")
    with pytest.raises(InputTooLargeError, match=r"100 bytes, over the 99-byte limit"):
        read_log(path, max_bytes=99)


def test_a_stream_over_the_limit_is_refused_without_reading_it_all() -> None:
    stream = io.BytesIO(b"y" * 10_000)
    with pytest.raises(InputTooLargeError, match=r"<stdin>: larger than the 1,000-byte limit"):
        read_stream(stream, name="<stdin>", max_bytes=1000)
    assert stream.tell() == 1001


def test_a_stream_within_the_limit_is_decoded() -> None:
    assert read_stream(io.BytesIO(b"ok\n"), name="<stdin>", max_bytes=3) == "ok\n"


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError, match="no such file"):
        read_log(tmp_path / "absent.log", max_bytes=LIMIT)


def test_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError, match="not a regular file"):
        read_log(tmp_path, max_bytes=LIMIT)


def test_a_path_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputNotFoundError):
        read_log(tmp_path / "file" / "child.log", max_bytes=LIMIT)


def test_a_file_name_too_long_for_the_file_system_is_an_input_error(tmp_path: Path) -> None:
    # ENAMETOOLONG from stat() is an OSError that Path.exists() does not swallow.
    with pytest.raises(InputError):
        read_log(tmp_path / ("a" * 300), max_bytes=LIMIT)
