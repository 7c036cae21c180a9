// Parley chat widget: placeholder until the widget lands.
