module hashvec

go 1.19
