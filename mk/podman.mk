# Loading runtime-spec JSON with uint64 values (config.json, exec --process).
OBJS += src/ctr/json.o

UNIT_TESTS += tests/unit/test-ctr-json
OBJS += src/ctr/copyup.o
