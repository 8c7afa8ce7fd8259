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
# The unit runs this Node by its absolute path (systemd has no nvm and no PATH of a login shell),
# with the launcher's own Node options (its #! line); the unit sets its environment (Environment=).
NODE      ?= $(shell command -v node)
NODE_ARGS := $(shell sed -n '1s|^\#!/usr/bin/env -S.* node||p' bin/vrrpd)
VERSION   := $(shell node -p "require('./package.json').version")

.PHONY: all build install uninstall deb

all: build

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

# A clean build: output left in dist/ by a source since moved or deleted (the old src/bench,
# src/protocol/testing) must not be installed. Then the bundle bin/vrrpd runs (dist/bundle/,
# scripts/bundle.mjs: one file per thread entry, for the start-up time and the resident set).
build: node_modules/.package-lock.json
	rm -rf dist
	npx tsc -p tsconfig.json
	node scripts/bundle.mjs

install: build
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPDIR)
	rm -rf $(DESTDIR)$(LIBDIR)/dist $(DESTDIR)$(LIBDIR)/node_modules
	cp -R bin dist conf systemd package.json package-lock.json $(DESTDIR)$(LIBDIR)/
	cp -R node_modules $(DESTDIR)$(LIBDIR)/
	cd $(DESTDIR)$(LIBDIR) && npm prune --omit=dev --no-audit --no-fund >/dev/null
# npm prune leaves the scope folder of each package it removes (node_modules/@esbuild, ...) empty
	find $(DESTDIR)$(LIBDIR)/node_modules -mindepth 1 -maxdepth 1 -type d -name '@*' -empty -delete
	ln -sfn $(LIBDIR)/bin/vrrpd $(DESTDIR)$(BINDIR)/vrrpd
	@case "$(NODE)" in /*) ;; *) echo "make install: no absolute Node path (NODE=$(NODE)): give NODE=/path/to/node" >&2; exit 1 ;; esac
	sed -e 's|^ExecStart=/usr/local/bin/vrrpd |ExecStart=$(NODE)$(NODE_ARGS) $(LIBDIR)/bin/vrrpd |' \
	    -e 's|^ExecReload=/usr/local/bin/vrrpd |ExecReload=$(NODE) $(LIBDIR)/bin/vrrpd |' \
	    -e 's|/usr/local/bin/vrrpd|$(BINDIR)/vrrpd|g' systemd/vrrpd.service > $(DESTDIR)$(UNITDIR)/vrrpd.service
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

# A Debian package of what `make install` installs, with PREFIX=/usr, the unit in /lib/systemd/system,
# the man pages, the examples and the documentation: vrrpd_<version>_<arch>.deb in this directory.
# Its native modules are built for this Node's ABI, so it depends on this Node's major version.
DEB_ARCH  := $(shell dpkg --print-architecture 2>/dev/null)
NODE_MAJOR = $(shell node -p "process.versions.node.split('.')[0]")
NODE_NEXT  = $(shell node -p "Number(process.versions.node.split('.')[0]) + 1")
DEB_ROOT  := build/deb/root
DEB_FILE  = vrrpd_$(VERSION)_$(DEB_ARCH).deb

deb: build
	rm -rf build/deb && mkdir -p $(DEB_ROOT)
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(DEB_ROOT) PREFIX=/usr UNITDIR=/lib/systemd/system \
	  COMPDIR=/usr/share/bash-completion/completions NODE=/usr/bin/node
	rm -f $(DEB_ROOT)/usr/lib/vrrpd/package-lock.json
	scripts/build-man.sh build/deb/man
	install -d $(DEB_ROOT)/usr/share/man/man8 $(DEB_ROOT)/usr/share/man/man5 $(DEB_ROOT)/usr/share/doc/vrrpd/examples
	gzip -9n < build/deb/man/vrrpd.8 > $(DEB_ROOT)/usr/share/man/man8/vrrpd.8.gz
	gzip -9n < build/deb/man/vrrpd.conf.5 > $(DEB_ROOT)/usr/share/man/man5/vrrpd.conf.5.gz
	cp conf/* $(DEB_ROOT)/usr/share/doc/vrrpd/examples/
	cp README.md KEYWORDS.md SECURITY.md $(DEB_ROOT)/usr/share/doc/vrrpd/
	cp -R docs $(DEB_ROOT)/usr/share/doc/vrrpd/docs
	cp packaging/debian/copyright $(DEB_ROOT)/usr/share/doc/vrrpd/copyright
	install -d $(DEB_ROOT)/DEBIAN
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@ARCH@|$(DEB_ARCH)|' -e 's|@NODE_MAJOR@|$(NODE_MAJOR)|g' -e 's|@NODE_NEXT@|$(NODE_NEXT)|g' \
	  -e "s|@SIZE@|$$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1)|" packaging/debian/control > $(DEB_ROOT)/DEBIAN/control
	install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm $(DEB_ROOT)/DEBIAN/
	dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $(DEB_FILE)
	@echo "built: $(DEB_FILE)"
