"""The query handler's Lambda layer (test artifact): regions, responses, active-region filtering, identity."""
