"""The AWS wire: protocols, authentication and one thin module per service, so boto3 and the AWS CLI work unchanged."""
