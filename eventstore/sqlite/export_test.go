package sqlite

// SetBulkTailLimit makes a store opened for bulk writes merge its tail at n
// events, so that tests reach the merge without appending bulkTailEvents.
func SetBulkTailLimit(s *Store, n int) { s.bulk.limit = n }

// SetBulkFilterCapacity sets what a bulk store's filter of seen ids counts
// as full, so that tests reach the filter's rebuild.
func SetBulkFilterCapacity(s *Store, n uint) { s.bulk.seenCap = n }

// BulkFilterCapacity is what a bulk store's filter was last made for.
func BulkFilterCapacity(s *Store) uint { return s.bulk.seenCap }

// SetCheckpointEvents makes a store opened for bulk writes ask for a
// checkpoint every n events committed.
func SetCheckpointEvents(s *Store, n int) { s.ckpt.every = n }
