package backfill

import "sync"

// pipeline runs an import's store writes on a goroutine of their own, in the
// order they were queued, while the caller plans the next instruments:
// planning and writing then overlap on separate cores. Counting and
// reporting are queued too, so they happen in the order of the file and on
// one goroutine only.
type pipeline struct {
	jobs   chan func() error
	done   chan struct{} // closed when the writer has stopped
	failed chan struct{} // closed on the first failed job

	mu  sync.Mutex
	err error
}

// newPipeline starts the writer. At most depth jobs wait while one runs,
// which bounds the memory the queued batches hold.
func newPipeline(depth int) *pipeline {
	p := &pipeline{jobs: make(chan func() error, depth), done: make(chan struct{}), failed: make(chan struct{})}
	go p.run()
	return p
}

func (p *pipeline) run() {
	defer close(p.done)
	for job := range p.jobs {
		if p.firstErr() != nil {
			continue // drain: nothing runs after a failure
		}
		if err := job(); err != nil {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
			close(p.failed)
		}
	}
}

func (p *pipeline) firstErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// do queues job, waiting while the queue is full. It returns the error of
// an earlier job instead, once one has failed, so the caller stops early.
func (p *pipeline) do(job func() error) error {
	select {
	case <-p.failed:
		return p.firstErr()
	case p.jobs <- job:
		return nil
	}
}

// wait lets the queued jobs finish and returns the first error.
func (p *pipeline) wait() error {
	close(p.jobs)
	<-p.done
	return p.firstErr()
}
