package goaccel

/*
#include <stdint.h>
#include <goaccel/goaccel.h>
*/
import "C"

import (
	"context"
	"fmt"
	"runtime/cgo"
)

// callState is what a C callback's payload (a cgo.Handle) refers to while one call runs: the
// context whose cancellation aborts the call, the Go callback, and what stopped the call.
type callState struct {
	ctx   context.Context
	fn    func(event interface{}) error
	cause error       // why the callback aborted: ctx.Err() or the Go callback's error
	panic interface{} // a panic raised by the Go callback, re-raised after the C call
}

// newCallState registers state for a call; the caller must delete the handle when the C call
// returns.
func newCallState(ctx context.Context, fn func(interface{}) error) (*callState, cgo.Handle) {
	if ctx == nil {
		ctx = context.Background()
	}
	st := &callState{ctx: ctx, fn: fn}
	return st, cgo.NewHandle(st)
}

// dispatch runs one event through the state: 0 to continue, 1 to abort. It never lets a panic
// unwind through C frames: the panic is kept and re-raised by finish.
func (st *callState) dispatch(makeEvent func() interface{}) (ret C.int) {
	if st.cause != nil || st.panic != nil {
		return 1
	}
	if err := st.ctx.Err(); err != nil {
		st.cause = err
		return 1
	}
	if st.fn == nil {
		return 0
	}
	defer func() {
		if r := recover(); r != nil {
			st.panic = r
			ret = 1
		}
	}()
	if err := st.fn(makeEvent()); err != nil {
		st.cause = err
		return 1
	}
	return 0
}

// finish turns the C call's result into the Go error: a cancellation carries its cause (so
// errors.Is(err, context.Canceled) holds) and a panic in the callback is re-raised here, on the
// caller's goroutine. The caller must still hold the OS thread of the C call.
func (st *callState) finish(ret C.int) error {
	if st.panic != nil {
		panic(st.panic)
	}
	if ret >= 0 {
		return nil
	}
	err := makeError(ret)
	if e, ok := err.(*Error); ok && st.cause != nil && e.Code == ErrUser {
		e.Cause = st.cause
		e.Message = fmt.Sprintf("%s: %v", e.Message, st.cause)
	}
	return err
}

func stateOf(handle C.uintptr_t) *callState {
	return cgo.Handle(handle).Value().(*callState)
}

//export gobindPruneEvent
func gobindPruneEvent(event *C.goaccel_prune_event, handle C.uintptr_t) C.int {
	st := stateOf(handle)
	return st.dispatch(func() interface{} { return goPruneEvent(event) })
}

//export gobindVerifyEvent
func gobindVerifyEvent(event *C.goaccel_verify_event, handle C.uintptr_t) C.int {
	st := stateOf(handle)
	return st.dispatch(func() interface{} { return goVerifyEvent(event) })
}
