module gdbtarget

go 1.19
