"""The simulated AWS wire: a botocore ``before-send`` dispatcher, the call recorder, the DRS fake and faults."""
