package eventstore

import (
	"context"
	"fmt"
)

// CopyPage is how many records Copy reads and appends at a time: one atomic
// batch, so an interrupted copy leaves whole pages and resumes after them. A
// target that bounds an append's size (AppendLimiter) takes a page in as
// many appends as it needs, each of whole records.
const CopyPage = 1000

// CopyProgress reports how far a copy has come.
type CopyProgress struct {
	Streams, StreamsDone int
	Events               int64 // records in the source
	Copied, Present      int64 // records appended, and found already there
}

// CopySummary is what a copy did.
type CopySummary struct {
	Streams int
	Copied  int64 // records appended to the target
	Present int64 // records the target already held (an earlier, perhaps interrupted, copy)
}

// Copy copies every record of every stream of from into to, keeping ids,
// both times and the hash chains (see Copier). It is idempotent and
// resumable: each stream continues after the records the target already
// holds, once it has checked they are the source's own (same version and
// hash); a target whose stream differs from the source's is refused.
func Copy(ctx context.Context, from, to Store, onProgress func(CopyProgress)) (CopySummary, error) {
	lister, ok := AsStreamLister(from)
	if !ok {
		return CopySummary{}, fmt.Errorf("the source store cannot list its streams")
	}
	copier, ok := AsCopier(to)
	if !ok {
		return CopySummary{}, fmt.Errorf("the target store cannot take copied events with their times and hashes")
	}
	targetLister, ok := AsStreamLister(to)
	if !ok {
		return CopySummary{}, fmt.Errorf("the target store cannot list its streams")
	}
	streams, err := lister.Streams(ctx)
	if err != nil {
		return CopySummary{}, fmt.Errorf("list the source's streams: %w", err)
	}
	held, err := streamsOf(ctx, targetLister)
	if err != nil {
		return CopySummary{}, fmt.Errorf("list the target's streams: %w", err)
	}
	p := CopyProgress{Streams: len(streams)}
	for _, s := range streams {
		p.Events += s.Events
	}
	report := func() {
		if onProgress != nil {
			onProgress(p)
		}
	}
	// Check every stream before copying any, so a target that is another
	// ledger is refused with nothing written.
	starts := make([]int64, len(streams))
	for i, s := range streams {
		if starts[i], err = resumeAt(ctx, from, s, held); err != nil {
			return CopySummary{}, err
		}
	}
	report()
	for i, s := range streams {
		next := starts[i]
		p.Present += next
		report()
		for next <= s.Version {
			page, err := from.ReadStream(ctx, s.Stream, next, CopyPage)
			if err != nil {
				return summaryOf(p), fmt.Errorf("read %s from the source: %w", s.Stream, err)
			}
			if len(page) == 0 {
				break
			}
			for len(page) > 0 {
				part := page[:fitting(to, page)]
				page = page[len(part):]
				res, err := copier.AppendCopies(ctx, s.Stream, Version(next-1), part)
				if err != nil {
					return summaryOf(p), err
				}
				if res.Replayed {
					p.Present += int64(len(part))
				} else {
					p.Copied += int64(len(part))
				}
				next += int64(len(part))
				report()
			}
		}
		p.StreamsDone++
		report()
	}
	return summaryOf(p), nil
}

// fitting is how many of records, at least one, the target takes in one
// append: all of them, unless the target bounds an append's size
// (AppendLimiter) and they exceed it.
func fitting(to Store, records []Record) int {
	limiter, ok := AsAppendLimiter(to)
	if !ok {
		return len(records)
	}
	budget := limiter.MaxAppendBytes()
	for i, r := range records {
		budget -= limiter.AppendBytes(r.EventData)
		if budget < 0 {
			return max(i, 1)
		}
	}
	return len(records)
}

func summaryOf(p CopyProgress) CopySummary {
	return CopySummary{Streams: p.StreamsDone, Copied: p.Copied, Present: p.Present}
}

// resumeAt returns the first version of s the target lacks, after checking
// that what it holds is the source's: the source's record at the target's
// last version has the target's last hash (which covers the id, the content
// and both times). held lists the target's streams.
func resumeAt(ctx context.Context, from Store, s StreamInfo, held map[string]StreamInfo) (int64, error) {
	tail, ok := held[s.Stream]
	if !ok || tail.Events == 0 {
		return 0, nil
	}
	if tail.Version > s.Version {
		return 0, fmt.Errorf("%s: the target holds %d events, the source only %d: they are different ledgers", s.Stream, tail.Version+1, s.Version+1)
	}
	same, err := from.ReadStream(ctx, s.Stream, tail.Version, 1)
	if err != nil {
		return 0, fmt.Errorf("read %s from the source: %w", s.Stream, err)
	}
	if len(same) != 1 || same[0].Hash != tail.LastHash {
		return 0, fmt.Errorf("%s: event %d differs between the source and the target: they are different ledgers", s.Stream, tail.Version)
	}
	return tail.Version + 1, nil
}

// streamsOf lists a store's streams by name.
func streamsOf(ctx context.Context, l StreamLister) (map[string]StreamInfo, error) {
	infos, err := l.Streams(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]StreamInfo, len(infos))
	for _, info := range infos {
		byName[info.Stream] = info
	}
	return byName, nil
}
