"""The address register: postal addresses by BSN, for letters that go out on paper."""
