"""Capture a real estate as a scenario: read (only read) what the inventory sync reads, write one scenario file.

- :mod:`harness.capture.guard`: the read-only proof, a ``before-call`` hook on every client that refuses any
  operation outside an explicit allow-list of reads.
- :mod:`harness.capture.reader`: the reads, through one boto3 session (the AWS CLI's credential chain) and per-account
  sessions from ``AssumeRole`` exactly as the sync assumes roles; errors become faults, timings the latency model.
- :mod:`harness.capture.document`: the captured estate as a scenario document (the format of
  ``docs/scenario-format.md``), DynamoDB types kept.
- :mod:`harness.capture.anonymise`: a consistent, seeded mapping of every identifier in a document.
- :mod:`harness.capture.command`: ``python -m harness capture``.

It reads nothing of the world and the engine: in tests a :class:`~harness.world.World` stands in for AWS, and the
capture cannot tell the difference.
"""
