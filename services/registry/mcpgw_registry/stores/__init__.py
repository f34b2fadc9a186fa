"""JetStream access: every read and write of the registry's configuration goes through here.

`kv` is the KV bucket (conditional writes, bounded calls), `blobs` the object store beside it,
`claims` unique names across replicas, `links` who uses what. One repository per resource checks
everything first and then writes, undoing a half-done request; `hooks` keeps servers consistent
with the resources they draw on, and a deleted consumer's or server's grants go with it (see
`grant_records`: a grant counts only while both exist). `keys` lists every key of the bucket.
"""
