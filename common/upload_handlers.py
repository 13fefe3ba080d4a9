"""Uploaded files (a warrant, an email list, an agency's camera list) stay in memory while a request is parsed.

Django's default handlers write any file over 2.5 MB to the temporary folder in plain text before the view runs: a
warrant or a list of residents' addresses would sit there unencrypted. Clips have their own sealing handler
(requests_app/views.py) and resumable uploads never reach this parser. A file over the limit is skipped, not kept:
the form then says it is missing, and `request.upload_skipped` says why."""

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler, SkipFile


class MemoryOnlyUploadHandler(MemoryFileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.activated = True  # whatever the size: never the temporary folder

    def new_file(self, *args, **kwargs):
        self.received = 0
        super().new_file(*args, **kwargs)  # ends by raising StopFutureHandlers: this one keeps the file

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_IN_MEMORY_MAX_MB * 1024 * 1024:
            if self.request is not None:
                self.request.upload_skipped = self.file_name
            raise SkipFile()
        return super().receive_data_chunk(raw_data, start)
