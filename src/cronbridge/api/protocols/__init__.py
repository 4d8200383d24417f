"""AWS wire protocols: request parsing, shape validation and error serialization per protocol."""
