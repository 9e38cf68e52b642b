# The two set-up commands (see README.md):
#   make demo    install what is missing, build, open the shell on the bundled snapshot
#   make check   install what is missing, build, run every test (plus an ASan/UBSan build)
# Everything else is meson: build/ is the normal build, build-asan/ the sanitizer one.

BUILD ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?=

.PHONY: all deps deps-build build check check-asan test demo clean fuzz check-valgrind bench

all: build

deps:
	build-aux/deps.sh test

deps-build:
	build-aux/deps.sh build

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: $(BUILD)/build.ninja
	meson setup --reconfigure $(BUILD) >/dev/null
	ninja -C $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false $(MESON_OPTS)

LIBEDIT_BUILD ?= build-libedit
PLAIN_BUILD ?= build-plain

$(LIBEDIT_BUILD)/build.ninja:
	meson setup $(LIBEDIT_BUILD) -Dreadline=disabled -Dlibedit=enabled -Dqemu_tests=disabled $(MESON_OPTS)

$(PLAIN_BUILD)/build.ninja:
	meson setup $(PLAIN_BUILD) -Dreadline=disabled -Dlibedit=disabled -Dqemu_tests=disabled $(MESON_OPTS)

# Every test in the normal (readline) build; every test again under ASan/UBSan
# (the QEMU golden tests fail on any sanitizer report from iommush); the shell
# tests in the libedit and the no-line-editor builds.
# Ends with one "N passed, N failed" line over all runs.
check: deps
	$(MAKE) --no-print-directory build
	$(MAKE) --no-print-directory $(ASAN_BUILD)/build.ninja $(LIBEDIT_BUILD)/build.ninja $(PLAIN_BUILD)/build.ninja
	for b in $(ASAN_BUILD) $(LIBEDIT_BUILD) $(PLAIN_BUILD); do \
	  meson setup --reconfigure $$b >/dev/null && ninja -C $$b || exit 1; done
	rc=0; \
	meson test -C $(BUILD) --print-errorlogs --num-processes 2 || rc=1; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes 2 || rc=1; \
	meson test -C $(LIBEDIT_BUILD) --suite shell --print-errorlogs --num-processes 2 || rc=1; \
	meson test -C $(PLAIN_BUILD) --suite shell --print-errorlogs --num-processes 2 || rc=1; \
	build-aux/summary.py $(BUILD)/meson-logs/testlog.json $(ASAN_BUILD)/meson-logs/testlog.json \
	  $(LIBEDIT_BUILD)/meson-logs/testlog.json $(PLAIN_BUILD)/meson-logs/testlog.json || rc=1; \
	exit $$rc

test: build
	meson test -C $(BUILD) --print-errorlogs; build-aux/summary.py $(BUILD)/meson-logs/testlog.json

demo: deps-build build
	./$(BUILD)/iommush --demo

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(LIBEDIT_BUILD) $(PLAIN_BUILD)

# Fuzzing: see tests/fuzz/README.md. Builds the libFuzzer harnesses with clang in
# $(FUZZ_BUILD) and runs each for FUZZ_SECONDS (FUZZ_HARNESSES picks some), one
# after the other. New corpus entries go to $(FUZZ_BUILD)/fuzz-corpus/<harness>/,
# crashes to $(FUZZ_BUILD)/fuzz-artifacts/; tests/fuzz/ is only read.
FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= build-fuzz
FUZZ_HARNESSES ?= dmar dump regsfile rsp walk debugfs vmcoreinfo kallsyms btf queue kdump
FUZZ_FLAGS ?= -rss_limit_mb=2048 -timeout=5 -print_final_stats=1
fuzz:
	@test -f $(FUZZ_BUILD)/build.ninja || \
	  CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_lundef=false -Dqemu_tests=disabled
	ninja -C $(FUZZ_BUILD) $(foreach h,$(FUZZ_HARNESSES),tests/fuzz/fuzz_$(h))
	@rc=0; for h in $(FUZZ_HARNESSES); do \
	  mkdir -p $(FUZZ_BUILD)/fuzz-corpus/$$h $(FUZZ_BUILD)/fuzz-artifacts; \
	  echo "== fuzz_$$h for $(FUZZ_SECONDS)s"; \
	  $(FUZZ_BUILD)/tests/fuzz/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
	    -artifact_prefix=$(FUZZ_BUILD)/fuzz-artifacts/$$h- \
	    $(FUZZ_BUILD)/fuzz-corpus/$$h tests/fuzz/corpus/$$h tests/fuzz/regress/$$h \
	    2>$(FUZZ_BUILD)/fuzz-artifacts/$$h.log || { rc=1; tail -n 40 $(FUZZ_BUILD)/fuzz-artifacts/$$h.log; }; \
	  grep -E '^stat::number_of_executed_units|^#[0-9]+[[:space:]]+DONE' $(FUZZ_BUILD)/fuzz-artifacts/$$h.log; \
	done; exit $$rc

# Unit tests and shell transcripts under valgrind memcheck: zero errors, zero leaks.
# (meson names the wrapped run's log after the wrapper: valgrind-unit-valgrind.json.)
VALGRIND = valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --quiet
check-valgrind: build
	rc=0; \
	meson test -C $(BUILD) --suite unit --print-errorlogs --num-processes 2 \
	  --wrapper '$(VALGRIND)' --timeout-multiplier 10 --logbase valgrind-unit || rc=1; \
	IOMMUSH_WRAPPER='$(VALGRIND)' meson test -C $(BUILD) --suite shell --no-suite pty \
	  --print-errorlogs --num-processes 2 --timeout-multiplier 10 --logbase valgrind-shell || rc=1; \
	build-aux/summary.py $(BUILD)/meson-logs/valgrind-unit-valgrind.json $(BUILD)/meson-logs/valgrind-shell.json || rc=1; \
	exit $$rc
