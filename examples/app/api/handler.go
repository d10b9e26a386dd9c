// Package api serves the orders HTTP API.
package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"example.com/goaccel/orders/internal/format"
	"example.com/goaccel/orders/internal/store"
)

// Handler routes /orders requests to the store.
type Handler struct {
	store *store.Store
	now   func() time.Time
}

// NewHandler returns a handler over s; now is the clock (time.Now in production).
func NewHandler(s *store.Store, now func() time.Time) *Handler {
	return &Handler{store: s, now: now}
}

type createRequest struct {
	Item     string `json:"item"`
	Quantity int    `json:"quantity"`
	Cents    int64  `json:"cents"`
}

type orderResponse struct {
	ID      string `json:"id"`
	Item    string `json:"item"`
	Total   string `json:"total"`
	Created string `json:"created"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/orders":
		h.create(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/orders/"):
		h.get(w, r, strings.TrimPrefix(r.URL.Path, "/orders/"))
	case r.Method == http.MethodGet && r.URL.Path == "/healthz":
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Item == "" || req.Quantity <= 0 {
		http.Error(w, "bad order", http.StatusBadRequest)
		return
	}
	o := store.Order{ID: uuid.NewString(), Item: req.Item, Quantity: req.Quantity,
		UnitCents: req.Cents, Created: h.now()}
	h.store.Put(o)
	w.Header().Set("Location", "/orders/"+o.ID)
	writeJSON(w, http.StatusCreated, h.response(o))
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, id string) {
	if _, err := uuid.Parse(id); err != nil {
		http.Error(w, "bad id", http.StatusBadRequest)
		return
	}
	o, ok := h.store.Get(id)
	if !ok {
		http.Error(w, "no such order", http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, h.response(o))
}

func (h *Handler) response(o store.Order) orderResponse {
	return orderResponse{ID: o.ID, Item: o.Item, Total: format.Money(o.Total()),
		Created: format.Age(o.Created, h.now())}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
