"""Bulletins from the real-time crime center to patrol officers and detectives: a still, a place, a description,
sent to units near a point, a zone or named people, received live on their phones and acknowledged."""
