# The fault matrix of ../shared/RELIABILITY.md (tests/faults/README.md).
# Included by the Makefile:  include faults.mk
#   make faults                 every row F1..F29 this machine can run, a table, exit 1 on a failure
#   FAULTS=F3,F16 make faults   a subset
#   make faults-quick           F1, F2, F3, F8, F16 with small loads (< 3 minutes; for make test)
#   make cluster                the scale-out rows C1..C4 on a local Redis Cluster (tests/cluster/)
FAULTS_CFLAGS := -std=c17 -Wall -Wextra -Wstrict-prototypes -Werror -Wno-format-truncation \
                 -D_GNU_SOURCE -O2 -g

.PHONY: faults faults-quick faults-tools faults-mockcheck cluster cluster-quick cluster-selftest

build/faults/fgen: tests/faults/fgen.c tests/genutil.h
	@mkdir -p $(dir $@)
	$(CC) $(FAULTS_CFLAGS) -o $@ $<

build/faults/fverify: tests/faults/verify.c
	@mkdir -p $(dir $@)
	$(CC) $(FAULTS_CFLAGS) $(shell pkg-config --cflags jansson) -o $@ $< \
		$(shell pkg-config --libs jansson)

build/faults/mockcheck: tests/faults/mockcheck.c
	@mkdir -p $(dir $@)
	$(CC) $(FAULTS_CFLAGS) $(shell pkg-config --cflags rdkafka) -o $@ $< \
		$(shell pkg-config --libs rdkafka)

faults-tools: build/faults/fgen build/faults/fverify

# Does the test broker lose idempotent batches that librdkafka reports
# persisted (row F18's one request in flight)? See tests/faults/mockcheck.c.
faults-mockcheck: build/faults/mockcheck build/testbroker
	tests/faults/mockcheck.sh 5
	tests/faults/mockcheck.sh 1

faults: faults-tools
	$(MAKE) all san
	tests/faults/run.sh $(subst $(comma), ,$(FAULTS))

faults-quick: faults-tools
	$(MAKE) all san
	FAULTS_QUICK=1 tests/faults/run.sh F1 F2 F3 F8 F16

comma := ,

# Scale-out rows on a local Redis Cluster, 3 masters + 3 replicas (tests/cluster/).
cluster: faults-tools
	$(MAKE) all san
	tests/cluster/run.sh $(subst $(comma), ,$(CLUSTER_ROWS))

cluster-quick: faults-tools
	$(MAKE) all san
	CLUSTER_QUICK=1 tests/cluster/run.sh

cluster-selftest: faults-tools
	$(MAKE) all san
	CLUSTER_QUICK=1 tests/cluster/run.sh C0
