module paude.dev/testbed/probe

go 1.26.0
