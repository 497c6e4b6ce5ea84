module gomap.test/swissgdb

go 1.19
