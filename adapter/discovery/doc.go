// Package discovery watches HSDS pods with client-go informers and keeps the store's pod set in
// step: added and updated pods are upserted, deleted pods leave the store.
package discovery
