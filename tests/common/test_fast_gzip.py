"""The staff map's compression: gzip a browser reads, at zlib's fastest level, with GZipMiddleware's headers and
its rules for what to leave alone."""

import gzip
import json
import os
import zlib

from django.http import HttpResponse
from django.test import RequestFactory

from common.fast_gzip import FastGZipMiddleware

BODY = json.dumps({"mode": "clusters", "clusters": [[35.78 + i / 1e4, -78.64 - i / 1e4, i % 97, i % 7]
                                                     for i in range(300)]}).encode()


def answer(body=BODY, accept="gzip, br", **headers):
    request = RequestFactory().get("/map/cameras.json", HTTP_ACCEPT_ENCODING=accept)
    response = HttpResponse(body, content_type="application/json", headers=headers)
    return FastGZipMiddleware(lambda request: response)(request)


def test_the_answer_is_gzip_at_the_fastest_level_with_the_headers_django_gives():
    response = answer(ETag='"abc"')
    assert gzip.decompress(response.content) == BODY
    assert response.content == zlib.compress(BODY, 1, wbits=31)  # level 1: not Django's level 6
    assert len(response.content) < len(BODY) / 3
    assert response["Content-Encoding"] == "gzip" and response["Content-Length"] == str(len(response.content))
    assert response["Vary"] == "Accept-Encoding" and response["ETag"] == 'W/"abc"'


def test_what_gzip_middleware_leaves_alone_is_left_alone():
    plain = answer(accept="br")
    assert plain.content == BODY and not plain.has_header("Content-Encoding") and plain["Vary"] == "Accept-Encoding"
    short = answer(body=b'{"mode": "clusters"}')
    assert short.content == b'{"mode": "clusters"}' and not short.has_header("Content-Encoding")
    encoded = answer(body=b"x" * 500, **{"Content-Encoding": "br"})
    assert encoded.content == b"x" * 500 and encoded["Content-Encoding"] == "br"
    noise = os.urandom(512)  # does not shrink: sent as it is
    random = answer(body=noise)
    assert random.content == noise and not random.has_header("Content-Encoding")
