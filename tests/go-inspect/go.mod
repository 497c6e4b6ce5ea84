module gomap.test/inspect

go 1.19
