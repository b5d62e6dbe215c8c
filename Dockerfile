# One image for every stswatch service: worker, ingest, api (the command is the argument).
#   docker build -t stswatch .
#   docker run --rm stswatch detect --help
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the package needs: the build context may hold test data and run folders.
COPY pyproject.toml README.md LICENSE ./
COPY config ./config
COPY detectors ./detectors
COPY streams ./streams
COPY stswatch ./stswatch
RUN pip install . \
    && useradd --system --uid 10001 --create-home --home-dir /home/stswatch stswatch

# Not root; the zone index cache (~/.cache/stswatch) lives in the user's home.
USER stswatch
WORKDIR /home/stswatch
ENTRYPOINT ["stswatch"]
CMD ["--help"]
