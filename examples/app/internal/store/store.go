// Package store keeps orders in memory, safe for concurrent use.
package store

import (
	"sync"
	"time"
)

// Order is one customer order.
type Order struct {
	ID        string
	Item      string
	Quantity  int
	UnitCents int64
	Created   time.Time
}

// Total is the order's price in cents.
func (o Order) Total() int64 { return int64(o.Quantity) * o.UnitCents }

// Store is an in-memory order table.
type Store struct {
	mu     sync.RWMutex
	orders map[string]Order
}

// New returns an empty store.
func New() *Store { return &Store{orders: make(map[string]Order)} }

// Put inserts or replaces an order.
func (s *Store) Put(o Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[o.ID] = o
}

// Get returns the order with the given id.
func (s *Store) Get(id string) (Order, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.orders[id]
	return o, ok
}
