# make install / make uninstall, included by the Makefile.
#
#   make install                          # /usr/local, /etc/hearth, /etc/systemd/system
#   make install PREFIX=/usr UNITDIR=/usr/lib/systemd/system
#   make install DESTDIR=/tmp/pkgroot     # staged install for packaging
#
# Installs hearthd and hearthctl in $(BINDIR); the shipped rules, schemas and
# Grafana dashboard in $(DATADIR); the example config as
# $(DATADIR)/hearth.example.yaml and, only when there is none yet, as
# $(CONFDIR)/hearth.yaml, in both with rules.dir and schemas.dir pointing at
# the installed folders; the systemd unit in $(UNITDIR) with these paths.
# $(CONFDIR)/hearth.yaml may hold passwords: it is installed 0640, owned by
# the installing user (root) and CONFGROUP when set (make install
# CONFGROUP=hearth-ops lets that group run hearthctl without root); the
# unit hands it to hearthd as a credential (deploy/hearth.service).
# The rules and schemas folders are replaced as a whole, so a rule removed
# from the repository stops firing; keep local rules elsewhere and point
# rules.dir there. uninstall keeps the config in $(CONFDIR).

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share/hearth
DOCDIR     ?= $(PREFIX)/share/doc/hearth
SYSCONFDIR ?= /etc
CONFDIR    ?= $(SYSCONFDIR)/hearth
UNITDIR    ?= /etc/systemd/system
CONFGROUP  ?=
INSTALL    ?= install

# Rewrites the example config: rules.dir and schemas.dir become absolute.
# The ranges run from a top-level key to the next one.
HEARTH_CONF_SED = -e '/^rules:/,/^[^ \#]/ s|^\(  dir:[[:space:]]*\)[^[:space:]\#]*|\1$(DATADIR)/rules|' \
                  -e '/^schemas:/,/^[^ \#]/ s|^\(  dir:[[:space:]]*\)[^[:space:]\#]*|\1$(DATADIR)/schemas|'
# Rewrites the unit's default paths to the chosen ones.
HEARTH_UNIT_SED = -e 's|/usr/local/bin/|$(BINDIR)/|g' \
                  -e 's|/usr/local/share/doc/hearth/|$(DOCDIR)/|g' \
                  -e 's|/usr/local/share/hearth/|$(DATADIR)/|g' \
                  -e 's|/etc/hearth/|$(CONFDIR)/|g'

.PHONY: install uninstall hearth-install-check

# Folders that install replaces and uninstall removes must not be empty.
hearth-install-check:
	@for v in "BINDIR=$(BINDIR)" "DATADIR=$(DATADIR)" "DOCDIR=$(DOCDIR)" "CONFDIR=$(CONFDIR)" \
	          "UNITDIR=$(UNITDIR)"; do \
	  case "$${v#*=}" in /?*) ;; *) echo "install: $${v%%=*} must be an absolute path" >&2; exit 1;; esac; \
	done

install: hearthd hearthctl hearth-install-check
	$(INSTALL) -d -m 0755 "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(DATADIR)" "$(DESTDIR)$(DOCDIR)" \
		"$(DESTDIR)$(CONFDIR)" "$(DESTDIR)$(UNITDIR)"
	$(INSTALL) -m 0755 hearthd hearthctl "$(DESTDIR)$(BINDIR)/"
	@set -e; for d in rules schemas; do \
	  rm -rf "$(DESTDIR)$(DATADIR)/$$d"; \
	  $(INSTALL) -d -m 0755 "$(DESTDIR)$(DATADIR)/$$d"; \
	  (cd $$d && find . -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \
	     -o -name '*.md' \) -print) | LC_ALL=C sort | while IFS= read -r f; do \
	    echo "$(INSTALL) -D -m 0644 $$d/$${f#./} $(DESTDIR)$(DATADIR)/$$d/$${f#./}"; \
	    $(INSTALL) -D -m 0644 "$$d/$$f" "$(DESTDIR)$(DATADIR)/$$d/$${f#./}"; \
	  done; \
	done
	sed $(HEARTH_CONF_SED) deploy/hearth.example.yaml >"$(DESTDIR)$(DATADIR)/hearth.example.yaml.tmp"
	@grep -q '^  dir:[[:space:]]*$(DATADIR)/rules\b' "$(DESTDIR)$(DATADIR)/hearth.example.yaml.tmp" && \
	 grep -q '^  dir:[[:space:]]*$(DATADIR)/schemas\b' "$(DESTDIR)$(DATADIR)/hearth.example.yaml.tmp" || \
	 { echo "install: rules.dir/schemas.dir not found in deploy/hearth.example.yaml" >&2; \
	   rm -f "$(DESTDIR)$(DATADIR)/hearth.example.yaml.tmp"; exit 1; }
	chmod 0644 "$(DESTDIR)$(DATADIR)/hearth.example.yaml.tmp"
	mv -f "$(DESTDIR)$(DATADIR)/hearth.example.yaml.tmp" "$(DESTDIR)$(DATADIR)/hearth.example.yaml"
	@if [ -e "$(DESTDIR)$(CONFDIR)/hearth.yaml" ]; then \
	  echo "keeping $(DESTDIR)$(CONFDIR)/hearth.yaml (compare with $(DATADIR)/hearth.example.yaml)"; \
	  if [ -n "$$(find "$(DESTDIR)$(CONFDIR)/hearth.yaml" -perm -o=r)" ]; then \
	    echo "warning: every user can read $(DESTDIR)$(CONFDIR)/hearth.yaml; it may hold passwords: chmod 0640 it" >&2; \
	  fi; \
	else \
	  echo "$(INSTALL) -m 0640 $(if $(CONFGROUP),-g $(CONFGROUP) )hearth.example.yaml $(DESTDIR)$(CONFDIR)/hearth.yaml"; \
	  $(INSTALL) -m 0640 $(if $(CONFGROUP),-g "$(CONFGROUP)") "$(DESTDIR)$(DATADIR)/hearth.example.yaml" "$(DESTDIR)$(CONFDIR)/hearth.yaml"; \
	fi
	$(INSTALL) -m 0644 deploy/grafana-dashboard.json "$(DESTDIR)$(DATADIR)/"
	$(INSTALL) -m 0644 README.md "$(DESTDIR)$(DOCDIR)/"
	sed $(HEARTH_UNIT_SED) deploy/hearth.service >"$(DESTDIR)$(UNITDIR)/hearth.service.tmp"
	chmod 0644 "$(DESTDIR)$(UNITDIR)/hearth.service.tmp"
	mv -f "$(DESTDIR)$(UNITDIR)/hearth.service.tmp" "$(DESTDIR)$(UNITDIR)/hearth.service"
	@echo "installed; then: systemctl daemon-reload && systemctl enable --now hearth"

uninstall: hearth-install-check
	rm -f "$(DESTDIR)$(BINDIR)/hearthd" "$(DESTDIR)$(BINDIR)/hearthctl"
	rm -f "$(DESTDIR)$(UNITDIR)/hearth.service"
	rm -rf "$(DESTDIR)$(DATADIR)" "$(DESTDIR)$(DOCDIR)"
	@echo "kept $(DESTDIR)$(CONFDIR)/hearth.yaml; then: systemctl daemon-reload"
