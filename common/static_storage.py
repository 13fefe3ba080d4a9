"""Static files as production serves them: hashed names, gzipped copies (WhiteNoise), cached for a year."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFiles(CompressedManifestStaticFilesStorage):
    """Links each file by its hashed name once `collectstatic` has run. A file not collected yet (a checkout that never
    ran it, such as the tests' own server processes, or a file added since) is linked by its plain name, which the
    server still finds, instead of failing the page with a 500."""

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:  # not in the manifest, and not under STATIC_ROOT to hash
            return name
