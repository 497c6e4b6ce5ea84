module golive

go 1.19
