# vrrpd: build and install (root). `make install` puts the package in $(PREFIX)/lib/vrrpd, the
# command in $(PREFIX)/bin/vrrpd, the bash completion in $(COMPDIR) and the systemd unit in
# $(UNITDIR), with the unit's paths rewritten for PREFIX. DESTDIR stages everything under another
# root (packaging, tests).
#
#   make install                 # then: systemctl disable --now keepalived; systemctl enable --now vrrpd
#   make install PREFIX=/opt/vrrpd UNITDIR=/etc/systemd/system
#   make uninstall
#
# Alternative without make:  npm pack && npm install -g ./vrrpd-*.tgz
#   then: sed "s|/usr/local/bin/vrrpd|$(npm prefix -g)/bin/vrrpd|" systemd/vrrpd.service \
#           > /etc/systemd/system/vrrpd.service && systemctl daemon-reload

PREFIX  ?= /usr/local
UNITDIR ?= /etc/systemd/system
COMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=
LIBDIR  := $(PREFIX)/lib/vrrpd
BINDIR  := $(PREFIX)/bin

.PHONY: all build install uninstall

all: build

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

# A clean build: output left in dist/ by a source since moved or deleted (the old src/bench,
# src/protocol/testing) must not be installed.
build: node_modules/.package-lock.json
	rm -rf dist
	npx tsc -p tsconfig.json

install: build
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPDIR)
	rm -rf $(DESTDIR)$(LIBDIR)/dist $(DESTDIR)$(LIBDIR)/node_modules
	cp -R bin dist conf systemd package.json package-lock.json $(DESTDIR)$(LIBDIR)/
	cp -R node_modules $(DESTDIR)$(LIBDIR)/
	cd $(DESTDIR)$(LIBDIR) && npm prune --omit=dev --no-audit --no-fund >/dev/null
	ln -sfn $(LIBDIR)/bin/vrrpd $(DESTDIR)$(BINDIR)/vrrpd
	sed 's|/usr/local/bin/vrrpd|$(BINDIR)/vrrpd|g' systemd/vrrpd.service > $(DESTDIR)$(UNITDIR)/vrrpd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vrrpd.service
	$(DESTDIR)$(LIBDIR)/bin/vrrpd completion bash > $(DESTDIR)$(COMPDIR)/vrrpd
	chmod 0644 $(DESTDIR)$(COMPDIR)/vrrpd
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "installed: $(BINDIR)/vrrpd and $(UNITDIR)/vrrpd.service"

uninstall:
	-@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl disable --now vrrpd.service 2>/dev/null; fi
	rm -f $(DESTDIR)$(BINDIR)/vrrpd $(DESTDIR)$(UNITDIR)/vrrpd.service $(DESTDIR)$(COMPDIR)/vrrpd
	rm -rf $(DESTDIR)$(LIBDIR)
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
