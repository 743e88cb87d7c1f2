# make balance USER=name [API=url]: watch the wallet of `name` grow (tools/balance_monitor.py).
# USER is normally the login name from the environment; only a USER= given on the command line
# names the Duino-Coin user, so a forgotten USER= never watches the wrong wallet.
.PHONY: balance

ifeq ($(origin USER),command line)
balance: $(VENV)
	$(PY) tools/balance_monitor.py '$(USER)' $(if $(API),--api '$(API)')
else
balance:
	$(error usage: make balance USER=<duco user> [API=<base url>])
endif
