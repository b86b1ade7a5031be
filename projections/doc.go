// Package projections folds events into read models. Projections are total
// functions that never fail on history: an event that no longer applies is
// skipped and reported by --explain, never turned into an error, because an
// answer about the past must always be possible once the events are stored.
//
// The point-in-time consensus of the contract (section 3) is computed here
// once: domain.Timeline and domain.Cursor select and fold the visible events
// (rules 1 to 3 and the latest close of rule 7), and Compute turns the folded
// state into the published figures (rules 4 to 9). Every figure is computed
// exactly, from integer millionths and math/big, and rounded only at the end,
// so the same history always prints the same digits on every platform.
package projections
