"""The Lambda shared layer: regions, responses, active-region filtering, cross-account access, table getters."""


def reset_state() -> None:
    """Clear every module-level cache of the layer (region cache, lazy tables) so a run starts cold."""
    from lambda_shared import active_region_filter, dynamodb_tables

    active_region_filter.reset()
    dynamodb_tables.reset_tables()
