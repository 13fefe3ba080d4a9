"""gzip at zlib's fastest level for the staff map's data, which it asks for on every move: on a pan's 8.9 KB of
groups, 60 µs instead of Django's 230 µs (level 6), for 12 % more bytes (3.3 against 2.9 KB). Map data holds no
secret and reflects no input beside one, so it goes without Django's padding against BREACH."""

import zlib

from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.utils.cache import patch_vary_headers
from django.utils.decorators import decorator_from_middleware

LEVEL = 1


class FastGZipMiddleware(GZipMiddleware):
    """GZipMiddleware's answer (same headers, same rules for what is left alone), compressed at LEVEL."""

    def process_response(self, request, response):
        if response.streaming:
            return super().process_response(request, response)
        if len(response.content) < 200 or response.has_header("Content-Encoding"):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if not re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        compressed = zlib.compress(response.content, LEVEL, wbits=31)  # 31: gzip's header and trailer
        if len(compressed) >= len(response.content):
            return response
        response.content = compressed
        response.headers["Content-Length"] = str(len(compressed))
        etag = response.get("ETag")
        if etag and etag.startswith('"'):
            response.headers["ETag"] = "W/" + etag  # as Django's: a strong ETag names the uncompressed bytes
        response.headers["Content-Encoding"] = "gzip"
        return response


gzip_fast = decorator_from_middleware(FastGZipMiddleware)
