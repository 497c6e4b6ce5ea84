module gomap.test/hash

go 1.19
