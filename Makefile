# rempart — the two commands a fresh Debian machine with Go needs:
#   make demo   build and run the demo (origin + edge + player page)
#   make test   install test tools when missing, then run the whole suite
GO     ?= go
BIN    := bin/rempart
HLSJS  := web/static/vendor/hls.min.js

.PHONY: demo test build web tools-web tools-test vet fuzz bench bench-admission clean

demo: build
	./$(BIN) demo

build: web
	$(GO) build -o $(BIN) ./cmd/rempart

# hls.js comes from the npm registry through web/package-lock.json and is
# embedded at build time; it is never committed.
web: $(HLSJS)

$(HLSJS): web/package.json web/package-lock.json
	@command -v npm >/dev/null || scripts/apt-install.sh npm
	cd web && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p web/static/vendor
	cp web/node_modules/hls.js/dist/hls.min.js $@

# Real players and servers the tests drive: ffmpeg/ffprobe, Debian's chromium,
# python3 (a static HTTP server rempart did not write).
tools-test:
	scripts/apt-install.sh ffmpeg chromium python3

test: tools-test web
	scripts/test.sh

# Longer fuzzing of every parser (not part of the suite): FUZZTIME per target.
FUZZTIME ?= 30s
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

# Side-by-side comparison with nginx; writes bench/out/ and prints a table.
bench: build
	bench/nginx-compare.sh

# Issue 5's goal at full scale: the waiting room at 10x capacity for 5 min.
bench-admission:
	bench/admission.sh

clean:
	rm -rf bin web/node_modules web/static/vendor bench/out
