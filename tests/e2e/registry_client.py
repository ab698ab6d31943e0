"""Drives confluent_kafka's SchemaRegistryClient (Debian python3-confluent-kafka)
against lakestreamd's registry listener and prints every answer as one JSON
document for tests/e2e/registry_python.test.mjs to check.

usage: /usr/bin/python3 registry_client.py REGISTRY_URL V1.avsc V2.avsc
"""
import json
import sys

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

url, v1_path, v2_path = sys.argv[1:4]
v1 = open(v1_path).read()
v2 = open(v2_path).read()
INCOMPATIBLE = ('{"type":"record","name":"VQEDecoratedResult","namespace":"quantum_pipeline",'
                '"fields":[{"name":"x","type":"int"}]}')
SUBJECT = 'py-vqe.results-value'


def client():
    # A fresh client per call that must reach the server: the client caches
    # registrations and schemas itself.
    return SchemaRegistryClient({'url': url})


def failure(fn):
    try:
        fn()
    except SchemaRegistryError as e:
        return {'http_status': e.http_status_code, 'error_code': e.error_code,
                'message': e.error_message}
    return None


out = {}
out['id1'] = client().register_schema(SUBJECT, Schema(v1, 'AVRO'))
out['id1_again'] = client().register_schema(SUBJECT, Schema(v1, 'AVRO'))
found = client().lookup_schema(SUBJECT, Schema(v1, 'AVRO'))
out['lookup'] = {'id': found.schema_id, 'version': found.version, 'subject': found.subject,
                 'same_text': found.schema.schema_str == v1}
out['compatible_v2'] = client().test_compatibility(SUBJECT, Schema(v2, 'AVRO'))
out['compatible_bad'] = client().test_compatibility(SUBJECT, Schema(INCOMPATIBLE, 'AVRO'))
out['id2'] = client().register_schema(SUBJECT, Schema(v2, 'AVRO'))
out['versions'] = client().get_versions(SUBJECT)
latest = client().get_latest_version(SUBJECT)
out['latest'] = {'id': latest.schema_id, 'version': latest.version,
                 'same_text': latest.schema.schema_str == v2}
first = client().get_version(SUBJECT, 1)
out['version1'] = {'id': first.schema_id, 'version': first.version}
out['subjects'] = client().get_subjects()
out['schema_by_id_same_text'] = client().get_schema(out['id1']).schema_str == v1
client().set_compatibility(SUBJECT, 'FULL')
out['subject_level'] = client().get_compatibility(SUBJECT)
out['global_level'] = client().get_compatibility()
out['register_incompatible'] = failure(
    lambda: client().register_schema(SUBJECT, Schema(INCOMPATIBLE, 'AVRO')))
out['lookup_unknown_subject'] = failure(
    lambda: client().lookup_schema('no-such-subject', Schema(v1, 'AVRO')))
out['lookup_unknown_schema'] = failure(
    lambda: client().lookup_schema(SUBJECT, Schema('"string"', 'AVRO')))
out['register_invalid'] = failure(
    lambda: client().register_schema(SUBJECT, Schema('{"type":"record"}', 'AVRO')))
out['register_json'] = failure(
    lambda: client().register_schema('py-json', Schema('{"type":"object"}', 'JSON')))
out['get_version_missing'] = failure(lambda: client().get_version(SUBJECT, 7))
out['deleted_version'] = client().delete_version(SUBJECT, 2)
out['versions_after_delete'] = client().get_versions(SUBJECT)
out['deleted_subject'] = client().delete_subject(SUBJECT, permanent=True)
out['versions_after_subject_delete'] = failure(lambda: client().get_versions(SUBJECT))
print(json.dumps(out))
