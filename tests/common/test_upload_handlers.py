"""Files posted in forms are parsed in memory: a warrant or an email list is never written to the temporary folder in
plain text, whatever its size (Django's default writes files over 2.5 MB there)."""

from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.test import RequestFactory

MIB = 1024 * 1024


def posted(size: int):
    request = RequestFactory().post("/agency/requests/new/", {
        "warrant_file": SimpleUploadedFile("warrant.pdf", b"%PDF-1.4 " + b"x" * size, "application/pdf")})
    return request, request.FILES


def test_a_file_over_django_default_threshold_stays_in_memory():
    _request, files = posted(3 * MIB)
    assert isinstance(files["warrant_file"], InMemoryUploadedFile)
    assert files["warrant_file"].size == 3 * MIB + 9


def test_a_file_over_the_limit_is_skipped_and_the_request_says_so(settings):
    settings.UPLOAD_IN_MEMORY_MAX_MB = 1
    request, files = posted(2 * MIB)
    assert "warrant_file" not in files
    assert request.upload_skipped == "warrant.pdf"
