module github.com/consensus-ledger/consensus

go 1.26

require github.com/google/uuid v1.6.0
